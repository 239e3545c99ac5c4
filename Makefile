# graph-collector: the two commands of the README, and a few helpers.
#   make run    build and run the main job (quickstart: recorded + generated alerts into real files)
#   make test   install what is missing, build, and run every test
SWIFT ?= swift

.PHONY: run test deps build release clean

run:
	bash scripts/quickstart.sh

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

deps:
	bash scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product graph-collector

clean:
	rm -rf .build quickstart-out quickstart-state
