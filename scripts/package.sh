#!/usr/bin/env bash
# Installs graph-collector, or builds a Debian package of it (`make install`, `make deb`).
#
#   scripts/package.sh install   PREFIX (/usr/local), DESTDIR (empty), SYSCONFDIR (/etc),
#                                SYSTEMDUNITDIR ($PREFIX/lib/systemd/system)
#   scripts/package.sh deb       dist/graph-collector_<version>-<DEB_REVISION>_<arch>.deb, laid out
#                                under /usr and /etc (DEB_REVISION 1, DEB_MAINTAINER, DIST=dist)
#
# Both build the `graph-collector` product in release mode with the Swift runtime and Foundation
# linked in (--static-swift-stdlib: the host needs libcurl, OpenSSL, zlib and libnats, no Swift), in their
# own scratch directory (SCRATCH, .build-install) so they never touch a development `.build`.
# What is installed:
#   $PREFIX/bin/graph-collector                                   the binary (debug info stripped)
#   $PREFIX/share/man/man1/graph-collector.1.gz                   swift-argument-parser's generate-manual
#   $PREFIX/share/bash-completion/completions/graph-collector     --generate-completion-script bash
#   $PREFIX/share/zsh/site-functions/_graph-collector             ... zsh
#   $PREFIX/share/fish/vendor_completions.d/graph-collector.fish  ... fish
#   $SYSTEMDUNITDIR/graph-collector.service                       ExecStart pointed at $PREFIX/bin
#   $SYSCONFDIR/graph-collector/collector.yaml                    the example configuration, never
#                                                                 overwritten (a newer one is put
#                                                                 beside it as collector.yaml.example)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-.build-install}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
DIST=${DIST:-dist}
DEB_REVISION=${DEB_REVISION:-1}
DEB_MAINTAINER=${DEB_MAINTAINER:-graph-collector maintainers <graph-collector@localhost>}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { echo "package: $*"; }
die() {
  echo "package: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 install|deb   (environment: PREFIX, DESTDIR, SYSCONFDIR, SYSTEMDUNITDIR, SCRATCH, DIST)" >&2
  exit 2
}

# The release build, and swift-argument-parser's `generate-manual` tool built from the same
# checkout: the tool its `generate-manual` command plugin runs. The plugin itself cannot be used:
# it release-builds every product (the fuzz, benchmark and fault executables too), passes its
# arguments on to the tool (so naming the product is an error), and runs the tool on every
# executable that depends on ArgumentParser, failing on graph-collector-fuzz, which does but is
# not an argument-parser command. Sets $bin and $generate_manual.
build() {
  local flags=(--scratch-path "$SCRATCH" -c release --static-swift-stdlib)
  say "building graph-collector (release, --static-swift-stdlib) in $SCRATCH"
  "$SWIFT" build "${flags[@]}" --product graph-collector
  say "building swift-argument-parser's generate-manual in $SCRATCH"
  "$SWIFT" build "${flags[@]}" --product generate-manual
  local bin_dir
  bin_dir=$("$SWIFT" build "${flags[@]}" --show-bin-path)
  bin="$bin_dir/graph-collector"
  generate_manual="$bin_dir/generate-manual"
  [ -x "$bin" ] || die "no binary at $bin after the build"
  [ -x "$generate_manual" ] || die "no generate-manual at $generate_manual after the build"
}

# The man page's date: SOURCE_DATE_EPOCH, else the last commit's, else today (reproducible builds).
manual_date() {
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d
  elif git -C "$root" log -1 --format=%cs >/dev/null 2>&1; then
    git -C "$root" log -1 --format=%cs
  else
    date -u +%Y-%m-%d
  fi
}

# install_files DEST PREFIX SYSCONFDIR UNITDIR: everything but the configuration, under DEST.
install_files() {
  local dest=$1 prefix=$2 sysconfdir=$3 unitdir=$4
  install -d -m 0755 "$dest$prefix/bin" "$dest$prefix/share/man/man1" \
    "$dest$prefix/share/bash-completion/completions" "$dest$prefix/share/zsh/site-functions" \
    "$dest$prefix/share/fish/vendor_completions.d" "$dest$unitdir"

  # Debug info off (DWARF is most of a release binary); the symbol table stays, so a crash's
  # backtrace still names functions.
  install -m 0755 "$bin" "$work/graph-collector"
  if command -v strip >/dev/null 2>&1; then
    strip --strip-debug "$work/graph-collector"
  else
    say "strip not found: installing the binary with its debug info"
  fi
  install -m 0755 "$work/graph-collector" "$dest$prefix/bin/graph-collector"

  "$generate_manual" "$bin" --output-directory "$work" --date "$(manual_date)" --section 1
  [ -s "$work/graph-collector.1" ] || die "generate-manual wrote no graph-collector.1"
  gzip -9 -n -c "$work/graph-collector.1" >"$work/graph-collector.1.gz"
  install -m 0644 "$work/graph-collector.1.gz" "$dest$prefix/share/man/man1/graph-collector.1.gz"

  "$bin" --generate-completion-script bash >"$work/bash"
  "$bin" --generate-completion-script zsh >"$work/zsh"
  "$bin" --generate-completion-script fish >"$work/fish"
  install -m 0644 "$work/bash" "$dest$prefix/share/bash-completion/completions/graph-collector"
  install -m 0644 "$work/zsh" "$dest$prefix/share/zsh/site-functions/_graph-collector"
  install -m 0644 "$work/fish" "$dest$prefix/share/fish/vendor_completions.d/graph-collector.fish"

  # The unit names the binary and the configuration where this installation puts them.
  sed -e "s|/usr/bin/graph-collector|$prefix/bin/graph-collector|g" \
    -e "s|/etc/graph-collector/collector.yaml|$sysconfdir/graph-collector/collector.yaml|g" \
    packaging/systemd/graph-collector.service >"$work/graph-collector.service"
  grep -q "^ExecStart=$prefix/bin/graph-collector run --config $sysconfdir/graph-collector/collector.yaml\$" \
    "$work/graph-collector.service" || die "the unit's ExecStart line was not where it was expected"
  install -m 0644 "$work/graph-collector.service" "$dest$unitdir/graph-collector.service"
}

# install_config DEST SYSCONFDIR: the example configuration, readable by root and the service's
# group only (it may hold secrets); an existing configuration is never replaced.
install_config() {
  local dest=$1 sysconfdir=$2
  local dir="$dest$sysconfdir/graph-collector"
  local config="$dir/collector.yaml"
  [ -d "$dir" ] || install -d -m 0750 "$dir"
  if [ ! -e "$config" ]; then
    install -m 0640 packaging/collector.yaml "$config"
    say "installed $config"
  elif cmp -s packaging/collector.yaml "$config"; then
    say "kept $config (same as the example)"
  else
    install -m 0640 packaging/collector.yaml "$config.example"
    say "kept $config (it differs from the example; the shipped one is in $config.example)"
  fi
  # On a real system with the service user already there, let the service read its configuration.
  if [ -z "$dest" ] && [ "$(id -u)" -eq 0 ] && getent group graph-collector >/dev/null; then
    chgrp graph-collector "$dir" "$config"
  elif [ -z "$dest" ]; then
    say "the service runs as graph-collector: create it and let it read $dir:"
    say "  adduser --system --group --home /var/lib/graph-collector --no-create-home graph-collector"
    say "  chgrp graph-collector $dir $config"
  fi
}

do_install() {
  build
  local unitdir=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
  install_files "$DESTDIR" "$PREFIX" "$SYSCONFDIR" "$unitdir"
  install_config "$DESTDIR" "$SYSCONFDIR"
  say "installed under ${DESTDIR:-/} (PREFIX=$PREFIX, SYSCONFDIR=$SYSCONFDIR, units in $unitdir)"
  if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
    say "then: systemctl daemon-reload && systemctl enable --now graph-collector"
  fi
}

# Depends: from dpkg-shlibdeps (dpkg-dev) when it is there, else the libraries the binary links.
deb_depends() {
  local stage=$1
  local fallback="libc6, libcurl4, libgcc-s1, libnats3.4, libssl3, libstdc++6, zlib1g"
  if ! command -v dpkg-shlibdeps >/dev/null 2>&1; then
    echo "$fallback"
    return
  fi
  # dpkg-shlibdeps reads debian/control: give it a minimal one of its own.
  local dir="$work/shlibdeps" line
  mkdir -p "$dir/debian"
  printf 'Source: graph-collector\n\nPackage: graph-collector\nArchitecture: any\n' >"$dir/debian/control"
  if line=$(cd "$dir" && dpkg-shlibdeps -O "$stage/usr/bin/graph-collector" 2>"$dir/err") &&
    [ -n "${line#shlibs:Depends=}" ]; then
    echo "${line#shlibs:Depends=}"
  else
    say "dpkg-shlibdeps failed ($(head -n 3 "$dir/err" | tr '\n' ' ')); using: $fallback" >&2
    echo "$fallback"
  fi
}

do_deb() {
  command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (apt-get install dpkg)"
  build
  local upstream arch version stage deb
  upstream=$("$bin" --version)
  if [ -n "${DEB_VERSION:-}" ]; then
    version=$DEB_VERSION
  else
    version="$upstream-$DEB_REVISION"
  fi
  [[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "'$version' is not a Debian version (set DEB_VERSION)"
  arch=$(dpkg --print-architecture)
  stage="$root/$SCRATCH/deb/graph-collector_${version}_$arch"
  rm -rf "$stage"
  mkdir -p "$stage"
  # The unit goes in /usr/lib/systemd/system: found there by systemd and deb-systemd-helper on
  # Debian 12, and nothing is shipped under the /lib alias.
  install_files "$stage" /usr /etc /usr/lib/systemd/system
  install_config "$stage" /etc

  install -d -m 0755 "$stage/DEBIAN"
  echo /etc/graph-collector/collector.yaml >"$stage/DEBIAN/conffiles"
  chmod 0644 "$stage/DEBIAN/conffiles"
  for script in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/$script"
  done
  local depends size
  depends=$(deb_depends "$stage")
  size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  cat >"$stage/DEBIAN/control" <<EOF
Package: graph-collector
Version: $version
Architecture: $arch
Maintainer: $DEB_MAINTAINER
Installed-Size: $size
Depends: $depends
Recommends: systemd
Section: admin
Priority: optional
Description: Microsoft Graph Security alerts to SIEM sinks
 graph-collector polls the Microsoft Graph Security API (alerts_v2, incidents,
 legacy alerts) and delivers normalized events to syslog (IBM LEEF or JSON),
 NDJSON files, gzip archives, webhooks and programs, with checkpoints, durable
 spools and dead letters. It runs as the graph-collector system user under the
 hardened systemd unit graph-collector.service, which is enabled but not started:
 edit /etc/graph-collector/collector.yaml, then systemctl start graph-collector.
EOF
  mkdir -p "$DIST"
  deb="$DIST/graph-collector_${version}_$arch.deb"
  dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
  say "built $deb ($(du -h "$deb" | cut -f1); Depends: $depends)"
}

[ $# -eq 1 ] || usage
case "$1" in
  install) do_install ;;
  deb) do_deb ;;
  *) usage ;;
esac
