#!/usr/bin/env bash
# The quota directory's start-up check: gemflow shares the API quota through file locks, so
# where they are a silent no-op (a lock granted twice) it refuses to call anything (exit 2, the
# reason named) rather than let processes overrun the quota together; where they work it goes
# on; and a run that calls nothing does not touch the directory at all.
source "$(dirname "$0")/lib.sh"
NOLOCK=${NOLOCK:-$(dirname "$GEMFLOW")/tests/libnolock.so}
[ -f "$NOLOCK" ] || { echo "not ok: no nolock shim at $NOLOCK (build target nolock)" >&2; exit 1; }
fake_start
job=$(new_job job)

# locks that are a silent no-op: refused before any paid call
LD_PRELOAD="$NOLOCK" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    gf run --quota-dir "$T_DIR/noop-quota" "$job"
assert_eq "locks that do nothing: exit 2" 2 "$GF_RC"
assert_contains "the reason is named" "file locks are a silent no-op in quota directory '$T_DIR/noop-quota'" "$(cat "$T_DIR/last.err")"
assert_eq "nothing was paid for" 0 "$(fake_count)"
assert_eq "the run ended failed with the reason in progress.jsonl" failed \
    "$(jq -rs '[.[] | select(.event == "run_end")] | last | .state' "$job/progress.jsonl")"
assert_contains "status says why" "silent no-op" "$("$GEMFLOW" status "$job" 2>&1)"

# working locks: the same run goes on, in the directory given by --quota-dir
gf run --quota-dir "$T_DIR/q" "$job"
assert_eq "working locks: the run ends done" 0 "$GF_RC"
check "the records are in --quota-dir" test -n "$(ls "$T_DIR"/q/*/*.quota 2>/dev/null)"
check "no record in \$GEMFLOW_QUOTA_DIR (--quota-dir wins)" test ! -e "$GEMFLOW_QUOTA_DIR"

# a quota directory that cannot be made: exit 2 with the path
touch "$T_DIR/file"
gf run --quota-dir "$T_DIR/file/q" "$(new_job job2)"
assert_eq "an unusable quota directory: exit 2" 2 "$GF_RC"
assert_contains "its path named" "'$T_DIR/file/q'" "$(cat "$T_DIR/last.err")"

# a run with nothing to call does not touch the quota directory (even a broken one)
before=$(fake_count)
gf run --quota-dir "$T_DIR/file/q" "$job"
assert_eq "a no-op rerun ends done" 0 "$GF_RC"
assert_eq "and calls nothing" "$before" "$(fake_count)"
touch -d '2000-01-01' "$T_DIR"/q/*/*.quota
gf run --quota-dir "$T_DIR/q" "$job"
check "a no-op run leaves the records untouched" \
    test -z "$(find "$T_DIR/q" -name '*.quota' -newermt '2001-01-01')"
# the default directory: $GEMFLOW_QUOTA_DIR, else $XDG_STATE_HOME/gemflow/quota, else ~/.local/state
env -u GEMFLOW_QUOTA_DIR XDG_STATE_HOME="$T_DIR/state" "$GEMFLOW" run "${FAST[@]}" "$(new_job job3)" \
    >/dev/null 2>&1
check "without --quota-dir or \$GEMFLOW_QUOTA_DIR: \$XDG_STATE_HOME/gemflow/quota" \
    test -n "$(ls "$T_DIR"/state/gemflow/quota/*/*.quota 2>/dev/null)"
env -u GEMFLOW_QUOTA_DIR -u XDG_STATE_HOME HOME="$T_DIR/home" "$GEMFLOW" run "${FAST[@]}" \
    "$(new_job job4)" >/dev/null 2>&1
check "else ~/.local/state/gemflow/quota" \
    test -n "$(ls "$T_DIR"/home/.local/state/gemflow/quota/*/*.quota 2>/dev/null)"
finish
