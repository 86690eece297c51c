#!/usr/bin/env bash
# Measures the offline replay rate (lines/s): generates a Pulse feed of PUSHES pushes with JOBS test jobs each
# (ScenarioStream: real message shapes, failures, duplicates, log_uploaded, a few malformed lines), then times
# `triggerbot replay` over it, end to end (JVM start included), and prints the replay's own summary line.
# usage: bench/replay-rate.sh [PUSHES=400] [JOBS=130]
set -euo pipefail
cd "$(dirname "$0")/.."
pushes="${1:-400}"
jobs="${2:-130}"

./mvnw -q -B -Dmaven.test.skip=true install >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
java -cp "test-support/target/classes:processor/target/lib/*" org.triggerbot.testsupport.pulse.ScenarioStream \
  --seed 1 --pushes "$pushes" --jobs "$jobs" > "$work/feed.jsonl"
lines=$(wc -l < "$work/feed.jsonl")
bytes=$(wc -c < "$work/feed.jsonl")
echo "input: $lines lines, $((bytes / 1024)) KiB ($((bytes / lines)) bytes/line mean), $pushes pushes x $jobs test jobs" >&2
start=$(date +%s.%N)
bin/triggerbot replay --input "$work/feed.jsonl" --output "$work/decisions.jsonl" 2>&1 | grep '^replayed' >&2
end=$(date +%s.%N)
decisions=$(wc -l < "$work/decisions.jsonl")
python3 - "$lines" "$start" "$end" "$decisions" <<'PY'
import sys
lines, start, end, decisions = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"wall time including JVM start: {end - start:.1f} s, {lines / (end - start):.0f} lines/s, {decisions} decisions")
PY
