#!/usr/bin/env bash
# Runs the libFuzzer targets of Fuzz/ (AddressSanitizer + libFuzzer, one binary, FUZZ_TARGET picks).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default 600 s, every target)
# New corpus entries go to .build-fuzz/corpus/TARGET (the committed seeds in Fuzz/Corpus stay as
# they are); a crash, leak-free hang or failed invariant is saved as .build-fuzz/findings/TARGET-*.
# Replay one with the normal build: .build/debug/graph-collector-fuzz TARGET FILE.
#   scripts/fuzz.sh --replay                              (no fuzzer: every seed and regression
#                                                          input through the normal debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--replay" ]; then
  swift build --product graph-collector-fuzz 2>&1 | tail -1
  replayer="$(swift build --show-bin-path)/graph-collector-fuzz"
  for dir in Fuzz/Corpus/*/; do
    target="$(basename "$dir")"
    files=("$dir"*)
    [ -d "Fuzz/Regressions/$target" ] && files+=("Fuzz/Regressions/$target/"*)
    "$replayer" "$target" "${files[@]}"
  done
  exit 0
fi
seconds="${1:-600}"
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(ls Fuzz/Corpus); fi

scratch=.build-fuzz
flags=(--scratch-path "$scratch" --product graph-collector-fuzz --sanitize fuzzer
       -Xswiftc -sanitize=address,fuzzer -Xswiftc -DFUZZING)
# SwiftPM passes --sanitize values one by one and the compiler keeps the last, so ASan is asked
# for again as one combined -sanitize=address,fuzzer; --sanitize fuzzer stays so SwiftPM lets
# libFuzzer provide main.
echo "fuzz: building graph-collector-fuzz with libFuzzer and AddressSanitizer"
swift build "${flags[@]}" 2>&1 | grep -v "Cannot export local symbol" | tail -3
binary="$(swift build "${flags[@]}" --show-bin-path)/graph-collector-fuzz"

mkdir -p "$scratch/findings"
summary=()
failed=0
for target in "${targets[@]}"; do
  [ -d "Fuzz/Corpus/$target" ] || { echo "fuzz: no target '$target' (Fuzz/Corpus/ names them)" >&2; exit 2; }
  corpus="$scratch/corpus/$target"
  mkdir -p "$corpus"
  regressions=()
  [ -d "Fuzz/Regressions/$target" ] && regressions=("Fuzz/Regressions/$target")
  log="$scratch/findings/$target.log"
  echo "fuzz: $target for ${seconds}s"
  status=0
  # The Swift backtracer would turn a trap into a bogus ASan report: let libFuzzer see the signal.
  FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
    "$binary" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$scratch/findings/$target-" \
      "$corpus" "Fuzz/Corpus/$target" "${regressions[@]}" >"$log" 2>&1 || status=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")"
  if [ "$status" -eq 0 ]; then
    summary+=("$(printf '%-16s %12s executions in %ss, no finding' "$target" "$runs" "$seconds")")
  else
    failed=1
    summary+=("$(printf '%-16s FINDING (exit %s) after %s executions; see %s' "$target" "$status" "$runs" "$log")")
    grep -E "ERROR|Fatal error|Precondition|deadly signal|Test unit written" "$log" | head -5 | sed 's/^/    /'
  fi
done
echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
