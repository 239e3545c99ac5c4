#!/bin/sh
# A sink written in shell for the exec-sink tests: appends every event line to $1 and
# acknowledges each batch with "ok <batch_id>". With $2 set, it crashes (exit 3) after
# acknowledging that many batches, once: a marker file makes the next run behave.
out="$1"; crash_after="${2:-0}"; batches=0
echo "exec child started" >&2
while IFS= read -r line; do
  case "$line" in
    *'"event_type":"batch_end"'*)
      id=$(printf '%s' "$line" | sed 's/.*"batch_id":"\([0-9]*\)".*/\1/')
      batches=$((batches + 1))
      if [ "$crash_after" -gt 0 ] && [ "$batches" -gt "$crash_after" ] && [ ! -e "$out.crashed" ]; then
        touch "$out.crashed"; echo "crashing on purpose before acknowledging batch $id" >&2; exit 3
      fi
      echo "ok $id" ;;
    *) printf '%s\n' "$line" >> "$out" ;;
  esac
done
