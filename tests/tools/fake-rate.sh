#!/usr/bin/env bash
# fake-rate.sh LOG MINUTE_MS MODEL [SKIP]: what the fake server's request log (--log) says about
# the paid requests of MODEL (after the first SKIP lines of the log: a test's earlier part; seq
# starts again when the fake is restarted), as one JSON line:
#   ok         requests answered 200
#   n429       requests answered 429 (by --rpm or a fault)
#   repeats    requests answered 200 whose body had already been answered 200 (sent twice)
#   rate       requests admitted per fake minute over the busy part: (ok - 1) / (last arrival -
#              first arrival) * MINUTE_MS; the idle time before the first and after the last
#              does not count
#   max_window the most requests admitted within any MINUTE_MS of arrival times (the fake's own
#              sliding window: it refuses the one beyond its --rpm)
#   minutes    the busy part in fake minutes
# Arrival times are the fake's own (its `ts`, ms resolution), not the client's.
set -euo pipefail
log=$1 minute=$2 model=$3 skip=${4:-0}
jq -cs --argjson m "$minute" --arg model "$model" --argjson skip "$skip" '
  def t: (.ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000
         + (.ts | capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber);
  [.[$skip:][] | select(.method == "POST" and .model == $model)] as $all
  | [$all[] | select(.status == 200)] as $ok
  | ($ok | map(t) | sort) as $ts
  | ($ts | length) as $n
  | {ok: $n,
     n429: ([$all[] | select(.status == 429)] | length),
     repeats: ($n - ($ok | map(.body_sha256) | unique | length)),
     rate: (if $n > 1 and ($ts[-1] - $ts[0]) > 0
            then (($n - 1) / ($ts[-1] - $ts[0]) * $m * 1000 | round / 1000) else 0 end),
     max_window: ([range(0; $n) as $i
                   | [$ts[$i:][] | select(. < $ts[$i] + $m)] | length] | max // 0),
     minutes: (if $n > 1 then (($ts[-1] - $ts[0]) / $m * 100 | round / 100) else 0 end)}
' "$log"
