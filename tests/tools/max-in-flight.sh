#!/usr/bin/env bash
# max-in-flight.sh LOG...: the most API calls that were open at one moment over the given
# progress logs (several jobs of one process). A call is open from its call_start to its
# call_start + the call_end's ms (the transfer's own time): the call_end event itself is
# written after the reply has been decoded and saved, by which time the slot may already
# carry the next call. Event times have millisecond resolution and the start (wall clock) and
# the length (monotonic) come from two clocks, so an interval only counts from 3 ms after its
# start: two calls that touch within that error are not counted as overlapping.
set -euo pipefail
for log in "$@"; do
    jq -nR '[inputs | fromjson? // empty]
      | def t: (.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + (.ts | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber / 1000);
      reduce (.[] | select(.event == "call_start" or .event == "call_end")) as $e ({open: {}, iv: []};
        ($e.stage + "/" + $e.item) as $k
        | if $e.event == "call_start" then .open[$k] = ($e | t)
          elif .open[$k] != null then .iv += [[.open[$k], .open[$k] + $e.ms / 1000]] | .open[$k] = null
          else . end)
      | .iv' "$log"
done | jq -s 'add // [] | [.[] | {t: (.[0] + 0.003), d: 1}, {t: .[1], d: -1}] | sort_by(.t, .d)
  | reduce .[] as $x ({n: 0, m: 0}; .n += $x.d | .m = ([.m, .n] | max)) | .m'
