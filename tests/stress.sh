#!/usr/bin/env bash
# stress.sh: the quick test suite, RUNS times in a row (default 5), with two CPU hogs beside it
# (stress-ng --cpu 2), to show that no test depends on the machine being idle: a busy machine
# makes a test slower, never wrong. Prints one line per run and a summary; exit 1 when a run
# failed (its log is kept in stress-logs/).
#   tests/stress.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if ! command -v stress-ng >/dev/null; then
    echo "stress.sh: installing stress-ng" >&2
    SUDO=()
    [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
mkdir -p stress-logs
stress-ng --cpu 2 --timeout 0 --quiet &
hogs=$!
trap 'kill $hogs 2>/dev/null; wait $hogs 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$runs"); do
    log="stress-logs/run-$i.log"
    t0=$SECONDS
    if ./test.sh >"$log" 2>&1; then
        result=pass
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    summary=$(grep -E "tests passed|tests failed out of" "$log" | tail -1)
    printf 'run %d/%d: %s in %ds, load %s: %s\n' "$i" "$runs" "$result" $((SECONDS - t0)) \
        "$(cut -d' ' -f1 /proc/loadavg)" "$summary"
    [ "$result" = pass ] || grep -E "\*\*\*Failed|Timeout|not ok" "$log" | head -20
done
echo "stress.sh: $((runs - failed)) of $runs runs passed with stress-ng --cpu 2 beside them"
[ "$failed" = 0 ]
