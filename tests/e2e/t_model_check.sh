#!/usr/bin/env bash
# Models change under us. Before its first paid call a run checks each model it may call with the
# free models.get: a shut-down model stops it (exit 2) having paid for nothing, with the API's
# words and the models the key can use instead (models.list, every page); --no-model-check and
# defaults.model_check skip the check. A reply whose modelVersion names another model is reported
# as rerouted (log, status, inspect, report); with strict_model it fails its item, not retried.
# A served model without the stage's method (imagen on a json stage) stops the run the same way.
# `gemflow models` lists what the key can use.
source "$(dirname "$0")/lib.sh"
# pages of 3 models: the alternatives must come from every page
fake_start --page-size-max 3
small() { # NAME: a job with a two-scene script
    local j
    j=$(new_job "$1")
    printf 'SCENE 1\nThe keeper climbs the stairs.\n\nSCENE 2\nThe lamp turns over the sea.\n' >"$j/script.txt"
    echo "$j"
}

# --- a shut-down image model: exit 2, nothing paid for, the alternatives named --------------
job=$(small shutdown)
gf run --set images.model=gemini-3.1-flash-image-preview "$job"
assert_eq "a shut-down model exits 2" 2 "$GF_RC"
assert_eq "no paid call at all (not even the analysis)" 0 "$(fake_count)"
err=$(cat "$T_DIR/last.err")
assert_contains "the stage and the model are named" "stage 'images': model 'gemini-3.1-flash-image-preview' is not served (HTTP 404 NOT_FOUND" "$err"
assert_contains "the API's own words" "no longer available" "$err"
for m in gemini-nano-banana-2.1 gemini-3.1-flash-image gemini-3-pro-image gemini-3.1-flash-lite-image; do
    assert_contains "the key's image models are offered, from every page ($m)" "$m" \
        "$(grep -o 'models this key can use for an image stage: .*' <<<"$err")"
done
assert_contains "never a text model for an image stage" "(gemflow models --kind image)" "$err"
case "$err" in *"image stage: "*gemini-3.8-flash,*) fail "a text model was offered for an image stage" ;; *) ok "no text model offered" ;; esac
pages=$(fake_count_all '.method == "GET" and (.path | endswith("/models"))')
check "models.list was paged ($pages pages of at most 3)" test "$pages" -ge 4
assert_eq "the log records why" "gemini-3.1-flash-image-preview" \
    "$(jq -r 'select(.event == "model_unavailable") | .model' "$job/progress.jsonl")"
gf status "$job"
assert_contains "status says the last run stopped before paying" "stopped before paying for anything" "$(cat "$T_DIR/last.out")"
gf status --json "$job"
assert_contains "status --json carries the error" "not served" "$(jq -r '.jobs[0].last_run.error' "$T_DIR/last.out")"
gf plan --set images.model=gemini-3.1-flash-image-preview "$job"
assert_eq "plan says so too, and exits 2" 2 "$GF_RC"
assert_contains "plan names the model" "gemini-3.1-flash-image-preview model 'gemini-3.1-flash-image-preview' is not served" "$(cat "$T_DIR/last.out")"
assert_eq "still nothing paid for" 0 "$(fake_count)"

# --- each model is checked once per run, and never again when nothing is left to call ------
job=$(small checked)
before=$(fake_count_all '.method == "GET"')
gf run "$job"
assert_eq "a good run exits 0" 0 "$GF_RC"
assert_eq "three models, three models.get" 3 "$(($(fake_count_all '.method == "GET"') - before))"
before=$(fake_count_all)
gf run "$job"
assert_eq "a run with nothing to call makes no request at all, not even a check" "$before" "$(fake_count_all)"

# --- --no-model-check and defaults.model_check: false --------------------------------------
job=$(small nocheck)
before=$(fake_count_all '.method == "GET"')
gf run --no-model-check --set images.model=gemini-3.1-flash-image-preview "$job"
assert_eq "without the check the shut-down model fails at call time (exit 1)" 1 "$GF_RC"
assert_eq "and no models.get was asked" "$before" "$(fake_count_all '.method == "GET"')"
job=$(small nocheck2)
gf run --set defaults.model_check=false "$job"
assert_eq "defaults.model_check: false works the same" "$before" "$(fake_count_all '.method == "GET"')"

# --- a rerouted model: named in the log, status, inspect and the report ---------------------
job=$(small rerouted)
gf run --set defaults.model=gemini-3.5-flash "$job"
assert_eq "a rerouted model still runs" 0 "$GF_RC"
assert_eq "one model_rerouted event per stage and model" "analysis prompts" \
    "$(jq -r 'select(.event == "model_rerouted") | .stage' "$job/progress.jsonl" | sort | tr '\n' ' ' | sed 's/ $//')"
assert_eq "it names both models" "gemini-3.5-flash gemini-3.6-flash" \
    "$(jq -r 'select(.event == "model_rerouted") | "\(.model) \(.served_by)"' "$job/progress.jsonl" | head -1)"
assert_eq "call_end says who answered" "gemini-3.6-flash" \
    "$(jq -r 'select(.event == "call_end" and .stage == "analysis") | .served_by' "$job/progress.jsonl")"
assert_eq "one warning line per stage and model" 2 "$(grep -c "asked for model 'gemini-3.5-flash', served by 'gemini-3.6-flash'" "$T_DIR/last.err")"
gf status --set defaults.model=gemini-3.5-flash "$job"
assert_contains "status: asked X, served by Y" "asked gemini-3.5-flash, served by gemini-3.6-flash (1 item" "$(cat "$T_DIR/last.out")"
# priced as the model asked for (gemini-3.5-flash: $1.50 in / $9.00 out per 1M), not as the one
# that answered (gemini-3.6-flash has no price): Google does not document a reroute's bill
gf status --json --set defaults.model=gemini-3.5-flash "$job"
assert_eq "a rerouted call is priced at the asked model's price" "true" \
    "$(jq '.jobs[0].stages[] | select(.name == "analysis") | (.cost_usd - (.tokens.prompt * 1.5 + .tokens.output * 9) / 1e6 | fabs) < 1e-9' "$T_DIR/last.out")"
gf inspect "$job" analysis
assert_contains "inspect: asked X, served by Y" "asked gemini-3.5-flash, served by gemini-3.6-flash" "$(cat "$T_DIR/last.out")"
gf report --set defaults.model=gemini-3.5-flash "$job"
assert_file_contains "the report too" "asked gemini-3.5-flash, served by gemini-3.6-flash" "$job/report.html"

# --- strict_model: the reroute fails the item, not retried ----------------------------------
job=$(small strict)
before=$(fake_count)
gf run --set defaults.model=gemini-3.5-flash --strict-models "$job"
assert_eq "strict: the run fails" 1 "$GF_RC"
assert_eq "strict: one call, no retry" "1 0" "$(($(fake_count) - before)) $(events "$job/progress.jsonl" retry)"
assert_eq "strict: the failure says why" "rerouted" "$(jq -r 'select(.event == "item_failed") | .error.kind' "$job/progress.jsonl")"
check "strict: the paid reply is kept for inspect" test -s "$(jq -r 'select(.event == "item_failed") | .error.rejected' "$job/progress.jsonl" | sed "s#^#$job/#")"
job=$(small strict2)
printf 'version: 1\nuse: script-to-media\nset:\n  analysis.strict_model: true\n  defaults.model: gemini-3.7-flash\n' >"$job/workflow.yaml"
gf run "$job"
assert_eq "strict_model on one stage: that stage fails" "analysis" \
    "$(jq -r 'select(.event == "item_failed") | .stage' "$job/progress.jsonl")"

# --- a served model that does not support the stage's method: exit 2, nothing paid for -----
# imagen models answer only predict; named on a json stage (generateContent) the free check
# stops the run before the analysis is paid for. The fake serves one (shut down by default).
fake_restart --page-size-max 3 --model imagen-4.0-fast-generate-001:imagen
job=$(small method)
before=$(fake_count)
gf run --set analysis.model=imagen-4.0-fast-generate-001 "$job"
assert_eq "a model without the stage's method exits 2" 2 "$GF_RC"
assert_eq "no paid call at all" 0 "$(($(fake_count) - before))"
err=$(cat "$T_DIR/last.err")
assert_contains "the stage, the model and the methods it has are named" \
    "stage 'analysis': model 'imagen-4.0-fast-generate-001' does not support generateContent (it supports: predict)" "$err"
assert_contains "the key's text models are offered" "models this key can use for a text stage: gemini-3.8-flash" "$err"
check "the model check asked models.get for it" test "$(fake_count_all '.method == "GET" and (.path | endswith("/models/imagen-4.0-fast-generate-001"))')" -ge 1

# --- gemflow models ------------------------------------------------------------------------
gf models
assert_eq "models exits 0" 0 "$GF_RC"
out=$(cat "$T_DIR/last.out")
assert_contains "lists today's image model with its price" "gemini-nano-banana-2.1" "$out"
assert_contains "a model without a price says unknown" "unknown" "$(grep '^gemini-3.6-flash ' <<<"$out")"
case "$out" in *gemini-3.1-flash-image-preview*) fail "a shut-down model is listed" ;; *) ok "shut-down models are not listed" ;; esac
gf models --kind speech --json
assert_eq "--kind speech --json: only speech models" "speech" "$(jq -r 'map(.kind) | unique | join(",")' "$T_DIR/last.out")"
assert_eq "--json carries methods, limits and the price" "true 8192 9" \
    "$(jq -r '.[] | select(.name == "gemini-3.8-flash-tts") | "\(.methods | index("generateContent") != null) \(.input_token_limit) \(.price.output_per_1m)"' "$T_DIR/last.out")"
gf models --kind nonsense
assert_eq "a bad kind is a usage error" 2 "$GF_RC"
finish
