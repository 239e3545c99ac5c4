#!/usr/bin/env bash
# The main job, on a fresh machine: build, start the built-in Graph simulator on 127.0.0.1 and
# collect alerts_v2, incidents and legacy alerts from it over real HTTP into NDJSON files under
# quickstart-out/ and, as IBM LEEF over TCP syslog, into a real rsyslog started on loopback
# (quickstart-out/syslog/leef.log); then show what arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product graph-collector
rm -rf quickstart-out quickstart-state
mkdir -p quickstart-out/syslog quickstart-state/extra-sinks quickstart-state/rsyslog

# A real syslog receiver: rsyslog on a free loopback port, writing each message as received.
rsyslogd_bin=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
rsyslog_pid=""
if [ -x "$rsyslogd_bin" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 10514)
  here=$(pwd)
  cat > quickstart-state/rsyslog/rsyslog.conf <<EOF
global(workDirectory="$here/quickstart-state/rsyslog" maxMessageSize="64k")
module(load="imptcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="leef") { action(type="omfile" file="$here/quickstart-out/syslog/leef.log" template="raw") }
input(type="imptcp" address="127.0.0.1" port="$port" ruleset="leef")
EOF
  "$rsyslogd_bin" -n -f quickstart-state/rsyslog/rsyslog.conf -i "$here/quickstart-state/rsyslog/rsyslogd.pid" \
    >quickstart-state/rsyslog/rsyslogd.log 2>&1 &
  rsyslog_pid=$!
  trap 'kill $rsyslog_pid 2>/dev/null || true' EXIT
  cat > quickstart-state/extra-sinks/syslog.yaml <<EOF
# Written by scripts/quickstart.sh: LEEF 2.0 over TCP (octet-counted) to the rsyslog it started.
sinks:
  - type: syslog
    name: rsyslog-leef
    transport: tcp
    targets: ["127.0.0.1:$port"]
    framing: octet-counting
    hostname: graph-collector-quickstart
EOF
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
else
  echo "quickstart: rsyslogd not found; collecting into files only" >&2
fi

.build/debug/graph-collector run --config Examples/quickstart/collector.yaml
if [ -n "$rsyslog_pid" ]; then
  kill "$rsyslog_pid"; wait "$rsyslog_pid" 2>/dev/null || true
fi
echo
echo "== What the sinks wrote (lines per file) =="
find quickstart-out -type f -name '*.ndjson' | sort | xargs wc -l
echo
echo "== The gzip archive, verified (gzip CRCs, every line an event, counts, SHA-256 against the manifests) =="
.build/debug/graph-collector archive verify quickstart-out/archive
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
if [ -s quickstart-out/syslog/leef.log ]; then
  echo
  echo "== What rsyslog received over TCP syslog: $(wc -l < quickstart-out/syslog/leef.log) LEEF messages; the first two =="
  head -2 quickstart-out/syslog/leef.log | cut -c1-400
  echo "   a provider warning as LEEF:"
  grep -m1 'ProviderWarning' quickstart-out/syslog/leef.log | cut -c1-400
fi
echo
echo "== Collector health events =="
cut -c1-400 quickstart-out/*/collector_health.ndjson 2>/dev/null || echo "(none)"
