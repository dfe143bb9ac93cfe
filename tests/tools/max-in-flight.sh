#!/usr/bin/env bash
# max-in-flight.sh LOG...: the most API calls that were open at one moment over the given
# progress logs (several jobs of one process). A call is open from its call_start to its
# call_start + the call_end's ms (the transfer's own time): the call_end event itself is
# written after the reply has been decoded and saved, by which time the slot may already
# carry the next call. Event times have millisecond resolution and the start (wall clock) and
# the length (monotonic) come from two clocks, so an interval only counts from 3 ms after its
# start: two calls that touch within that error are not counted as overlapping.
#
# max-in-flight.sh --fake HOLD_MS LOG: the same count from the fake server's request log, for
# paid (POST) requests: each is open from its arrival (ts) for HOLD_MS, the latency the fake was
# told to hold every request before answering. That window lies inside the client's call
# whatever the client's clocks say, so it is the count to trust on a loaded machine.
set -euo pipefail
# most_open SLACK: the most intervals open at once; the intervals [start, end] come on stdin,
# one JSON array per input, and a start counts from SLACK after it (in the intervals' unit)
most_open() {
    jq -s "add // [] | [.[] | {t: (.[0] + $1), d: 1}, {t: .[1], d: -1}] | sort_by(.t, .d)
      | reduce .[] as \$x ({n: 0, m: 0}; .n += \$x.d | .m = ([.m, .n] | max)) | .m"
}
if [ "${1:-}" = --fake ]; then
    # arrival to the millisecond (truncated), so no slack is needed: a request sent after the
    # one before was answered arrives at or after that one's arrival + HOLD_MS
    # (in whole milliseconds, so that an arrival at exactly the end before it compares equal)
    jq -s --argjson hold "$2" '[.[] | select(.method == "POST")
        | ((.ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000 + (.ts | capture("\\.(?<f>[0-9]{3})").f | tonumber)) as $t
        | [$t, $t + $hold]]' "$3" | most_open 0
    exit
fi
for log in "$@"; do
    jq -nR '[inputs | fromjson? // empty]
      | def t: (.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (.ts | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber / 1000);
      reduce (.[] | select(.event == "call_start" or .event == "call_end")) as $e ({open: {}, iv: []};
        ($e.stage + "/" + $e.item) as $k
        | if $e.event == "call_start" then .open[$k] = ($e | t)
          elif .open[$k] != null then .iv += [[.open[$k], .open[$k] + $e.ms / 1000]] | .open[$k] = null
          else . end)
      | .iv' "$log"
done | most_open 0.003
