#!/usr/bin/env bash
# Installs what building and testing graph-collector needs on Debian/Ubuntu, only if missing:
# libcurl, OpenSSL, zlib and NATS C client headers (for the CCurl, COpenSSL, CZlib and CNats
# system-library targets), nats-server (the JetStream sink's tests start real clusters on loopback),
# pkg-config (which SwiftPM uses to find them), gzip (the tests check archives with `gzip -t` and
# `zcat`), the openssl tool (the tests make certificates and verify signatures with it), and
# rsyslog with its OpenSSL TLS driver (the syslog sink's tests send to a real rsyslog on loopback) and
# python3 (the webhook tests verify signatures with Python's own hmac), and systemd (for
# `systemd-analyze verify` of the shipped unit), prometheus (its `promtool check metrics` checks
# /metrics), nghttp2-proxy (nghttpx, the TLS and HTTP/2 terminator in front of the simulator),
# and from PyPI the checkers below.
set -euo pipefail

packages=(libcurl4-openssl-dev libssl-dev zlib1g-dev libnats-dev nats-server pkg-config gzip openssl rsyslog rsyslog-openssl python3 python3-pip systemd prometheus nghttp2-proxy)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Checkers we did not write, from PyPI: Standard Webhooks signatures, the OCSF schema (offline,
# with jsonschema), a CEF parser, and NATS's Python client (it counts what a stream holds).
python_packages=(standardwebhooks ocsf-json-schema==1.2.0 jsonschema cefp==0.0.2 nats-py==2.16.0)
if ! python3 -c "import standardwebhooks, ocsf_json_schema, jsonschema, cefp, nats" >/dev/null 2>&1; then
  echo "install-deps: installing ${python_packages[*]} from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "${python_packages[@]}" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${python_packages[@]}"
fi

command -v swift >/dev/null 2>&1 || { echo "install-deps: the Swift toolchain (6.2 or newer) is not on PATH" >&2; exit 1; }
