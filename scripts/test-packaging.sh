#!/usr/bin/env bash
# Tests `make install` and `make deb` (scripts/package.sh) end to end: what is installed and
# where, that the binary needs no Swift runtime on the host and runs, that the example
# configuration validates and is never overwritten, and what the Debian package holds.
# Stops at the first failure with the reason. `make test` runs it; alone: bash scripts/test-packaging.sh
# (the first run builds the static release binary in .build-install: several minutes on 2 cores).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
MAKE=${MAKE:-make}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/graph-collector-packaging.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n== %s\n' "$*"; }
ok() { echo "  ok: $*"; }
fail() {
  echo "test-packaging: FAIL: $*" >&2
  exit 1
}
# check DESCRIPTION COMMAND...: runs the command, fails the test with DESCRIPTION if it fails.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }
same_file() { cmp -s "$1" "$2"; }
contains() { grep -q -- "$2" "$1"; }

# no_swift_runtime BINARY: dynamically linked, every library found, none from a Swift toolchain.
no_swift_runtime() {
  local out="$tmp/ldd.txt"
  ldd "$1" >"$out" 2>&1 || fail "ldd $1 failed: $(cat "$out")"
  if grep -Eq 'not found' "$out"; then fail "ldd $1: a library is missing: $(grep 'not found' "$out")"; fi
  if grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' "$out"; then
    fail "$1 needs a Swift runtime library: $(grep -E 'libswift|Foundation|dispatch|Blocks' "$out" | tr -s ' \t' ' ')"
  fi
  local needed
  if command -v readelf >/dev/null 2>&1; then
    needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  else
    needed=$(awk '$2 == "=>" {print $1}' "$out" | tr '\n' ' ')
  fi
  ok "ldd $1: no Swift runtime library, nothing missing; NEEDED: $needed"
}

# check_man PAGE: man renders it when man is installed, else it is roff (mdoc or man macros).
check_man() {
  if command -v man >/dev/null 2>&1; then
    MANWIDTH=100 man -l "$1" >"$tmp/man.txt" 2>"$tmp/man.err" || fail "man -l $1: $(cat "$tmp/man.err")"
    [ ! -s "$tmp/man.err" ] || fail "man -l $1 warned: $(head -n 5 "$tmp/man.err")"
    grep -q 'Collects Microsoft Graph Security alerts' "$tmp/man.txt" || fail "man -l $1: no description"
    grep -q 'validate' "$tmp/man.txt" || fail "man -l $1: the validate subcommand is missing"
    ok "man -l $1 renders ($(wc -l <"$tmp/man.txt") lines, subcommands included)"
  else
    local first
    first=$(zcat "$1" | grep -m 1 '^\.[A-Za-z]' || true)
    case "$first" in
      .Dd* | .TH*) ok "$1 is roff (first macro: $first; man is not installed)" ;;
      *) fail "$1 does not look like a man page (first macro: '$first')" ;;
    esac
  fi
}

check_completions() {
  local share=$1
  check "bash completion $share/bash-completion/completions/graph-collector" \
    contains "$share/bash-completion/completions/graph-collector" 'complete .*graph-collector'
  check "bash completion parses (bash -n)" bash -n "$share/bash-completion/completions/graph-collector"
  check "zsh completion $share/zsh/site-functions/_graph-collector" \
    contains "$share/zsh/site-functions/_graph-collector" '^#compdef graph-collector'
  if command -v zsh >/dev/null 2>&1; then
    check "zsh completion parses (zsh -n)" zsh -n "$share/zsh/site-functions/_graph-collector"
  fi
  check "fish completion $share/fish/vendor_completions.d/graph-collector.fish" \
    contains "$share/fish/vendor_completions.d/graph-collector.fish" "^complete -c '\\?graph-collector'\\?"
  if command -v fish >/dev/null 2>&1; then
    check "fish completion parses (fish -n)" fish -n "$share/fish/vendor_completions.d/graph-collector.fish"
  fi
}

# check_runs BINARY CONFIG: --version, and validate of the installed example configuration, which
# reads its client secret from client-secret beside it: refused without the file, ok with it.
check_runs() {
  local bin=$1 config=$2
  local secret
  secret="$(dirname "$config")/client-secret"
  version=$("$bin" --version) || fail "$bin --version failed"
  [[ $version =~ ^[0-9]+\.[0-9]+ ]] || fail "$bin --version printed '$version'"
  ok "$bin --version: $version"
  rm -f "$secret"
  if "$bin" validate --config "$config" >"$tmp/validate.out" 2>&1; then
    fail "validate accepted $config without its client-secret file"
  fi
  grep -q 'client-secret' "$tmp/validate.out" || fail "validate without the secret did not name it: $(cat "$tmp/validate.out")"
  ok "validate refuses $config while client-secret is missing: $(grep -m 1 'client-secret' "$tmp/validate.out")"
  printf 'not-a-real-secret\n' >"$secret"
  "$bin" validate --config "$config" >"$tmp/validate.out" 2>&1 || fail "validate $config: $(cat "$tmp/validate.out")"
  if grep -q 'warning' "$tmp/validate.out"; then fail "validate $config warned: $(cat "$tmp/validate.out")"; fi
  ok "$(cat "$tmp/validate.out")"
  rm -f "$secret"
}

# verify_unit UNIT BINARY: systemd-analyze verify, with ExecStart pointed at BINARY (the unit
# names the installed path, which on this machine is not there), as the unit's own test does.
verify_unit() {
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "  skipped: systemd-analyze verify (systemd-analyze is not installed)"
    return
  fi
  mkdir -p "$tmp/unit"
  sed "s|^ExecStart=[^ ]*|ExecStart=$2|" "$1" >"$tmp/unit/graph-collector.service"
  systemd-analyze verify --man=no "$tmp/unit/graph-collector.service" >"$tmp/verify.out" 2>&1 ||
    fail "systemd-analyze verify $1: $(cat "$tmp/verify.out")"
  [ ! -s "$tmp/verify.out" ] || fail "systemd-analyze verify $1 warned: $(cat "$tmp/verify.out")"
  ok "systemd-analyze verify $1 (ExecStart pointed at $2)"
}

# ---------------------------------------------------------------------------------------------
step "make install DESTDIR=$tmp/root PREFIX=/usr"
root="$tmp/root"
start=$SECONDS
$MAKE --no-print-directory -C "$repo" install DESTDIR="$root" PREFIX=/usr || fail "make install failed"
ok "make install took $((SECONDS - start)) s"

bin="$root/usr/bin/graph-collector"
config="$root/etc/graph-collector/collector.yaml"
unit="$root/usr/lib/systemd/system/graph-collector.service"
check "binary $bin, mode 0755" mode_is "$bin" 755
ok "binary size: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"
no_swift_runtime "$bin"
check "man page $root/usr/share/man/man1/graph-collector.1.gz" test -s "$root/usr/share/man/man1/graph-collector.1.gz"
check_man "$root/usr/share/man/man1/graph-collector.1.gz"
check_completions "$root/usr/share"
check "unit $unit" test -s "$unit"
check "the unit's ExecStart is /usr/bin/graph-collector with /etc/graph-collector/collector.yaml" \
  contains "$unit" '^ExecStart=/usr/bin/graph-collector run --config /etc/graph-collector/collector.yaml$'
verify_unit "$unit" "$bin"
check "example configuration $config, mode 0640" mode_is "$config" 640
check "configuration directory mode 0750" mode_is "$(dirname "$config")" 750
check "the installed configuration is packaging/collector.yaml" same_file "$config" "$repo/packaging/collector.yaml"
check_runs "$bin" "$config"

step "make install again over an edited configuration"
echo "# edited by the operator" >>"$config"
cp "$config" "$tmp/edited.yaml"
$MAKE --no-print-directory -C "$repo" install DESTDIR="$root" PREFIX=/usr >"$tmp/install2.log" 2>&1 ||
  fail "second make install failed: $(tail -n 20 "$tmp/install2.log")"
check "the edited configuration was not overwritten" same_file "$config" "$tmp/edited.yaml"
check "the shipped one was put beside it as collector.yaml.example" \
  same_file "$config.example" "$repo/packaging/collector.yaml"
check "make install said so" contains "$tmp/install2.log" "kept $config"

step "make install DESTDIR=$tmp/local (PREFIX defaults to /usr/local)"
$MAKE --no-print-directory -C "$repo" install DESTDIR="$tmp/local" >"$tmp/install3.log" 2>&1 ||
  fail "make install with the default PREFIX failed: $(tail -n 20 "$tmp/install3.log")"
check "binary in /usr/local/bin" test -x "$tmp/local/usr/local/bin/graph-collector"
check "man page in /usr/local/share/man/man1" test -s "$tmp/local/usr/local/share/man/man1/graph-collector.1.gz"
check "unit in /usr/local/lib/systemd/system, ExecStart=/usr/local/bin/graph-collector" \
  contains "$tmp/local/usr/local/lib/systemd/system/graph-collector.service" '^ExecStart=/usr/local/bin/graph-collector run '
check "configuration still in /etc/graph-collector" test -s "$tmp/local/etc/graph-collector/collector.yaml"

# ---------------------------------------------------------------------------------------------
step "make deb"
start=$SECONDS
env -u DEB_VERSION -u DEB_REVISION -u DIST $MAKE --no-print-directory -C "$repo" deb || fail "make deb failed"
ok "make deb took $((SECONDS - start)) s"
arch=$(dpkg --print-architecture)
deb="$repo/dist/graph-collector_${version}-1_${arch}.deb"
check "package $deb" test -s "$deb"
ok "package size: $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes)"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = graph-collector ] || fail "Package: '$(field Package)'"
[ "$(field Version)" = "$version-1" ] || fail "Version: '$(field Version)', expected $version-1"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: '$(field Architecture)', expected $arch"
ok "Package graph-collector, Version $version-1, Architecture $arch"
depends=$(field Depends)
for lib in libc6 libcurl4 libssl3 zlib1g libnats3.4; do
  [[ $depends =~ (^|, )$lib( |,|$) ]] || fail "Depends lacks $lib: $depends"
done
ok "Depends: $depends"
dpkg-deb --info "$deb" conffiles >"$tmp/conffiles" 2>&1 || fail "no conffiles: $(cat "$tmp/conffiles")"
check "conffiles is exactly /etc/graph-collector/collector.yaml" \
  test "$(cat "$tmp/conffiles")" = /etc/graph-collector/collector.yaml

dpkg-deb --contents "$deb" >"$tmp/contents"
# Lines: mode owner/group size date time path
entry() { awk -v p="$1" '$6 == p {print $1}' "$tmp/contents"; }
for path in ./usr/bin/graph-collector ./usr/share/man/man1/graph-collector.1.gz \
  ./usr/share/bash-completion/completions/graph-collector ./usr/share/zsh/site-functions/_graph-collector \
  ./usr/share/fish/vendor_completions.d/graph-collector.fish ./usr/lib/systemd/system/graph-collector.service \
  ./etc/graph-collector/collector.yaml; do
  [ -n "$(entry "$path")" ] || fail "the package lacks $path"
done
ok "the package holds the binary, man page, three completions, unit and configuration"
[ "$(entry ./usr/bin/graph-collector)" = -rwxr-xr-x ] || fail "binary mode $(entry ./usr/bin/graph-collector)"
[ "$(entry ./etc/graph-collector/collector.yaml)" = -rw-r----- ] ||
  fail "configuration mode $(entry ./etc/graph-collector/collector.yaml)"
[ "$(entry ./etc/graph-collector/)" = drwxr-x--- ] || fail "/etc/graph-collector mode $(entry ./etc/graph-collector/)"
ok "modes: binary 0755, /etc/graph-collector 0750, collector.yaml 0640"
others=$(awk '$2 != "root/root"' "$tmp/contents")
[ -z "$others" ] || fail "files not owned by root: $others"
ok "every file is root/root"
outside=$(awk '$6 != "./" && $6 !~ /^\.\/(usr|etc)\//' "$tmp/contents")
[ -z "$outside" ] || fail "files outside /usr and /etc: $outside"
ok "everything is under /usr and /etc ($(wc -l <"$tmp/contents") entries)"

step "the package extracted (dpkg-deb -x)"
x="$tmp/extracted"
dpkg-deb -x "$deb" "$x"
check "extracted binary mode 0755" mode_is "$x/usr/bin/graph-collector" 755
check "extracted configuration mode 0640" mode_is "$x/etc/graph-collector/collector.yaml" 640
no_swift_runtime "$x/usr/bin/graph-collector"
check_man "$x/usr/share/man/man1/graph-collector.1.gz"
verify_unit "$x/usr/lib/systemd/system/graph-collector.service" "$x/usr/bin/graph-collector"
installed_version=$version
check_runs "$x/usr/bin/graph-collector" "$x/etc/graph-collector/collector.yaml"
[ "$version" = "$installed_version" ] || fail "the package's binary is $version, make install's $installed_version"

step "maintainer scripts"
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
  check "$script is executable" test -x "$tmp/control/$script"
  check "$script passes sh -n" sh -n "$tmp/control/$script"
done
check "postinst creates the graph-collector user" contains "$tmp/control/postinst" 'adduser --system'
check "postinst enables the unit" contains "$tmp/control/postinst" 'deb-systemd-helper enable'

printf '\ntest-packaging: all checks passed (%d s)\n' "$SECONDS"
