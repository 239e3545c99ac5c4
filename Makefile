# graph-collector: the two commands of the README, and a few helpers.
#   make run    build and run the main job: collect from the built-in Graph simulator into real sinks
#   make test   install what is missing, build, and run every test (the custom-sink example's too)
#   make docs   the DocC documentation of CollectorCore (fetches swift-docc-plugin)
#   make fault-injection   the fault-injection suite alone (FAULT_ARGS="--only kill-9 --kills 5")
#   make bench  the benchmarks of the release build make install ships (BENCH_ARGS="--only syslog,gzip"; Benchmarks/README.md)
#   make fault-schedules  the seeded fault-schedule test of the Graph engine, release build (SEEDS=5000 FIRST=1)
#   make fuzz   every libFuzzer target for FUZZ_SECONDS (600) each (FUZZ_TARGETS="leef spool")
#   make format  swift-format the tree (.swift-format); `make test` lints it
#   make install  static release build, man page, completions, systemd unit, example config (PREFIX=/usr/local DESTDIR=)
#   make deb    the same as a Debian package in dist/ (/usr, /etc/graph-collector/collector.yaml a conffile)
SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc

.PHONY: many-tenants run test deps build release clean docs fault-injection bench fuzz fault-schedules format lint install deb

run:
	bash scripts/quickstart.sh

# `make test` runs every fault-injection case, kill-9 smaller (6 kills in 30,000 alerts, about a
# quarter of the time); `make fault-injection` runs the full size (20 kills in 100,000 alerts).
# FAULT_ARGS, when given, replaces TEST_FAULT_ARGS whole (give the sizes too).
TEST_FAULT_ARGS ?= --alerts 30000 --kills 6

FORMATTED = Sources Tests Benchmarks Fuzz Examples/custom-sink/Sources Examples/custom-sink/Tests Package.swift

test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test
	"$$($(SWIFT) build --show-bin-path)/fault-injection" $(or $(FAULT_ARGS),$(TEST_FAULT_ARGS))
	"$$($(SWIFT) build --show-bin-path)/fault-schedules" --seeds 200 --parallel 8
	"$$($(SWIFT) build --show-bin-path)/graph-collector-bench" --tiny
	bash scripts/fuzz.sh --replay
	bash scripts/fuzz.sh 20
	$(SWIFT) build --build-tests --package-path Examples/custom-sink
	$(SWIFT) test --package-path Examples/custom-sink
	bash scripts/test-packaging.sh

fault-injection: deps
	$(SWIFT) build
	"$$($(SWIFT) build --show-bin-path)/fault-injection" $(FAULT_ARGS)

# The collector measured is the one `make install` and `make deb` ship: release, the Swift
# runtime linked in (--static-swift-stdlib, in .build-install); GRAPH_COLLECTOR=path measures another.
BENCH_SCRATCH = .build-install
bench: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path $(BENCH_SCRATCH) --product graph-collector
	$(SWIFT) build -c release --product graph-collector-bench
	GRAPH_COLLECTOR="$${GRAPH_COLLECTOR:-$$($(SWIFT) build -c release --static-swift-stdlib --scratch-path $(BENCH_SCRATCH) --show-bin-path)/graph-collector}" \
		"$$($(SWIFT) build -c release --show-bin-path)/graph-collector-bench" $(BENCH_ARGS)

SEEDS ?= 5000
FIRST ?= 1
fault-schedules: deps
	$(SWIFT) build -c release --product fault-schedules
	"$$($(SWIFT) build -c release --show-bin-path)/fault-schedules" --seeds $(SEEDS) --first $(FIRST) --parallel 16

FUZZ_SECONDS ?= 600
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

deps:
	bash scripts/install-deps.sh

# The formatter's rules (.swift-format) and the architecture's (ARCHITECTURE.md: dependencies one
# way, files and functions small).
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)
	python3 scripts/check-structure.py

format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMATTED)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product graph-collector

# Both build in .build-install (scripts/package.sh), apart from the development .build.
install: deps
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" SWIFT="$(SWIFT)" bash scripts/package.sh install

deb: deps
	SWIFT="$(SWIFT)" bash scripts/package.sh deb

clean:
	rm -rf .build .build-fuzz .build-install dist quickstart-out quickstart-state

docs:
	GRAPH_COLLECTOR_DOCS=1 $(SWIFT) package generate-documentation --target CollectorCore

# The many-tenants test at 200 tenants in one collector process (make test runs 60).
many-tenants: deps
	$(SWIFT) build --build-tests
	MANY_TENANTS=200 $(SWIFT) test --filter ManyTenantsTests
