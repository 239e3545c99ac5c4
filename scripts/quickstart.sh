#!/usr/bin/env bash
# The main job, on a fresh machine: build, then collect the recorded Graph answers (one of them
# a 206 Partial Content with three failing providers) and 5,000 generated alerts into NDJSON
# files under quickstart-out/, and show what arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product graph-collector
rm -rf quickstart-out quickstart-state
.build/debug/graph-collector run --config Examples/quickstart/collector.yaml
echo
echo "== What the sinks wrote (lines per file) =="
find quickstart-out -type f -name '*.ndjson' | sort | xargs wc -l
echo
echo "== Provider warnings (206 Partial Content answers), first lines =="
cut -c1-300 quickstart-out/*/provider_warning.ndjson | sort -u -t, -k3,5 | head -5
