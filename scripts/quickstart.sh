#!/usr/bin/env bash
# The main job, on a fresh machine: build, start the built-in Graph simulator on 127.0.0.1 and
# collect alerts_v2, incidents and legacy alerts from it over real HTTP into NDJSON files under
# quickstart-out/, then show what arrived.
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
echo "== Provider warnings (from 206 Partial Content answers), one per provider and status =="
python3 - <<'PY' 2>/dev/null || cut -c1-300 quickstart-out/*/provider_warning.ndjson | head -5
import glob, json
seen = set()
for path in sorted(glob.glob("quickstart-out/*/provider_warning.ndjson")):
    for line in open(path):
        w = json.loads(line)
        key = (w["provider"], w["http_status"])
        if key not in seen:
            seen.add(key)
            print(f'{w["vendor"]}/{w["provider"]} {w["http_status"]}: {w["diagnosis"]}')
PY
echo
echo "== Collector health events =="
cut -c1-400 quickstart-out/*/collector_health.ndjson 2>/dev/null || echo "(none)"
