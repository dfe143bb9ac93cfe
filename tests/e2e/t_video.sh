#!/usr/bin/env bash
# The video stage: the bundled workflow ends with video.mp4 (H.264 + AAC, constant frame rate,
# moov before mdat) whose duration is the narrations' (minus the crossfades) and subtitles.srt
# on the same timeline, all checked with ffprobe. A second run encodes nothing; a changed image or
# fps encodes once; a stop signal abandons the encode; FFmpeg missing is a configuration error
# before any request; an FFmpeg failure is an error that quotes FFmpeg.
source "$(dirname "$0")/lib.sh"
fake_start

# A short script (3 scenes of a few seconds) so a 1080p encode stays quick.
short_job() {
    local dir="$T_DIR/$1"
    mkdir -p "$dir"
    cat >"$dir/script.txt" <<'EOF'
The Keeper's Morning
A very short film in three scenes.

SCENE 1 — DAWN
The lamp turns once more over the grey sea.

SCENE 2 — THE STAIRS
Elias climbs the iron steps, slowly, counting.

SCENE 3 — THE LENS
He polishes the glass until the sun comes up.
EOF
    echo "$dir"
}
# run ARGS...: gemflow run with lifted pacing and a quick encode: the ultrafast preset, and no
# Ken Burns motion at full size (the rest: the bundled defaults; small encodes below move)
QUICK=(--set video.preset=ultrafast --set video.motion=none)
run() {
    "$GEMFLOW" run "${FAST_RPM[@]}" "${QUICK[@]}" "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
}
probe() { # probe FILE ENTRIES: one value per line
    ffprobe -v error -show_entries "$2" -of default=nw=1:nk=1 "$1"
}
# seconds of every narration, in scene order, as ffprobe decodes them (frames / rate)
narration_secs() {
    local id frames rate
    for id in $(jq -r '.scenes[].id' "$1/analysis.json"); do
        frames=$(wav_frames "$1/audio/$id.wav")
        rate=$(probe "$1/audio/$id.wav" stream=sample_rate)
        awk -v f="$frames" -v r="$rate" 'BEGIN { printf "%.6f\n", f / r }'
    done
}
# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# the video item_done events and encode_start events in the log
video_done() { jq -s '[.[] | select(.event == "item_done" and .stage == "video")] | length' "$1/progress.jsonl"; }
encodes() { events "$1/progress.jsonl" encode_start; }
# srt_times FILE: "start end" in seconds per cue
srt_times() {
    grep -- '-->' "$1" | awk -F' --> ' '
        function s(t, a) { split(t, a, /[:,]/); return a[1] * 3600 + a[2] * 60 + a[3] + a[4] / 1000 }
        { printf "%.3f %.3f\n", s($1), s($2) }'
}

# --- the first run: defaults of the bundled workflow (1080p from 16:9 images, 30 fps, 0.5 s
# crossfades) ------------------------------------------------------------------------------------
job=$(short_job first)
run "$job"
assert_eq "the job with a video stage runs to the end" 0 "$GF_RC"
[ "$GF_RC" = 0 ] || cat "$T_DIR/last.err" >&2
mp4="$job/video.mp4"
check "video.mp4 exists" test -s "$mp4"
assert_eq "one video and one audio stream" "video audio" "$(probe "$mp4" stream=codec_type | tr '\n' ' ' | sed 's/ $//')"
assert_eq "H.264 and AAC" "h264 aac" "$(probe "$mp4" stream=codec_name | tr '\n' ' ' | sed 's/ $//')"
assert_eq "1920x1080 from the 16:9 images" "1920x1080" "$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$mp4")"
assert_eq "30 fps" "30/1" "$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$mp4")"
assert_eq "constant frame rate (average = nominal)" "30/1" "$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$mp4")"
first_box=$(ffprobe -v trace "$mp4" 2>&1 | grep -oE "type:'(moov|mdat)' parent:'root'" | head -1)
assert_eq "+faststart: moov comes before mdat" "type:'moov' parent:'root'" "$first_box"

mapfile -t secs < <(narration_secs "$job")
assert_eq "three narrations" 3 "${#secs[@]}"
sum=$(printf '%s\n' "${secs[@]}" | awk '{ s += $1 } END { printf "%.6f", s }')
want=$(awk -v s="$sum" 'BEGIN { printf "%.6f", s - 2 * 0.5 }') # two crossfades of 0.5 s
got=$(probe "$mp4" format=duration)
check "duration $got = narrations $sum - 2 x 0.5 s crossfade = $want (within 0.1 s)" near "$got" "$want" 0.1
vdur=$(ffprobe -v error -select_streams v:0 -show_entries stream=duration -of csv=p=0 "$mp4")
check "the picture lasts as long as the sound ($vdur s)" near "$vdur" "$want" 0.1
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$mp4")
check "$frames frames = duration x 30 (no dropped or doubled frame)" near "$frames" "$(awk -v w="$want" 'BEGIN { print w * 30 }')" 1

# subtitles.srt: one cue per scene, changing in the middle of each crossfade
srt="$job/subtitles.srt"
assert_eq "three cues" 3 "$(grep -c -- '-->' "$srt")"
mapfile -t cues < <(srt_times "$srt")
starts=(0 "$(awk -v a="${secs[0]}" 'BEGIN { print a - 0.5 + 0.25 }')" "$(awk -v a="${secs[0]}" -v b="${secs[1]}" 'BEGIN { print a + b - 1 + 0.25 }')")
ends=("${starts[1]}" "${starts[2]}" "$want")
bad=0
for k in 0 1 2; do
    read -r s e <<<"${cues[$k]}"
    near "$s" "${starts[$k]}" 0.002 && near "$e" "${ends[$k]}" 0.002 || { bad=1; echo "cue $((k + 1)): $s $e, expected ${starts[$k]} ${ends[$k]}" >&2; }
done
assert_eq "cue times follow the scene timeline" 0 "$bad"
first_text=$(sed -n 3p "$srt")
assert_eq "cue text is the scene's narration" "$(jq -r '.scenes[0].narration' "$job/analysis.json")" "$first_text"

# the record of it
assert_eq "one video item_done" 1 "$(video_done "$job")"
assert_eq "it has both outputs" '["video.mp4","subtitles.srt"]' "$(jq -sc '[.[] | select(.event == "item_done" and .stage == "video")][0].outputs | map(.path)' "$job/progress.jsonl")"
assert_eq "the manifest lists both with their real sha256" "$(sha256sum "$mp4" | cut -d' ' -f1) $(sha256sum "$srt" | cut -d' ' -f1)" \
    "$(jq -r '[.artifacts[] | select(.stage == "video")] | sort_by(.path) | reverse | map(.sha256) | join(" ")' "$job/manifest.json")"
assert_eq "manifest media facts" '"video/mp4" 1920' "$(jq -r '.artifacts[] | select(.path == "video.mp4") | "\(.media.type | tojson) \(.media.width)"' "$job/manifest.json")"
check "FFmpeg's progress became encode_progress events" test "$(events "$job/progress.jsonl" encode_progress)" -ge 1
assert_eq "the last one says 100 %" 100 "$(jq -s '[.[] | select(.event == "encode_progress")] | last | .percent' "$job/progress.jsonl")"
assert_eq "percent never goes down" true "$(jq -s '[.[] | select(.event == "encode_progress") | .percent] | . == sort' "$job/progress.jsonl")"
rec="$job/.gemflow/calls/video/video.json"
assert_eq "the call record keeps FFmpeg's argument vector" true "$(jq '.response.body.argv | index("+faststart") != null' "$rec")"
assert_eq "every input is a file: URL" true "$(jq '[.response.body.argv as $a | range(0; $a | length) | select($a[.] == "-i") | $a[. + 1] | startswith("file:")] | all' "$rec")"
assert_eq "no temporary file is left" 0 "$(find "$job" -name '.*.tmp-*' | wc -l)"
"$GEMFLOW" report "$job" >/dev/null 2>"$T_DIR/report.err"
assert_eq "report.html is written" 0 "$?"
check "report.html embeds the video" grep -q '<video[^>]*src="video.mp4"' "$job/report.html"
assert_eq "the API key is written nowhere" 0 "$(grep -rl -- "$GEMINI_API_KEY" "$job" | wc -l)"

# --- a second run encodes nothing ----------------------------------------------------------------
requests=$(fake_count true)
run "$job"
assert_eq "second run exits 0" 0 "$GF_RC"
assert_eq "second run: no new item_done for video" 1 "$(video_done "$job")"
assert_eq "second run: FFmpeg did not run" 1 "$(encodes "$job")"
assert_eq "second run: no request" "$requests" "$(fake_count true)"

# --- the re-encodes, at a small size to stay quick: one image replaced by hand ------------------------
small=(--set video.resolution=640x360 --set video.fps=10)
job=$(short_job changes)
mp4="$job/video.mp4"
rec="$job/.gemflow/calls/video/video.json"
run "${small[@]}" "$job"
assert_eq "small job: exit 0" 0 "$GF_RC"
assert_eq "small job: encoded once" 1 "$(encodes "$job")"
requests=$(fake_count true)
sha_before=$(sha256sum "$mp4" | cut -d' ' -f1)
cp "$job/images/s01.jpg" "$job/images/s02.jpg"
"$GEMFLOW" plan "${FAST_RPM[@]}" "${QUICK[@]}" "${small[@]}" "$job" >"$T_DIR/plan.out"
assert_contains "plan: the video's request changed" "request changed" "$(grep -A1 '^  video' "$T_DIR/plan.out")"
run "${small[@]}" "$job"
assert_eq "after the edit: exit 0" 0 "$GF_RC"
assert_eq "after the edit: encoded once more" 2 "$(encodes "$job")"
assert_eq "after the edit: no request (the image was kept as edited)" "$requests" "$(fake_count true)"
check "after the edit: a different video" test "$(sha256sum "$mp4" | cut -d' ' -f1)" != "$sha_before"
assert_eq "the new request names the edited image's sha256" "$(sha256sum "$job/images/s02.jpg" | cut -d' ' -f1)" \
    "$(jq -r '.request.body.scenes[1].image.sha256' "$rec")"
run "${small[@]}" "$job"
assert_eq "and then not again" 2 "$(encodes "$job")"

# --- fps changed: encoded once at the new rate -------------------------------------------------------
run "${small[@]}" --set video.fps=24 "$job"
assert_eq "fps=24: exit 0" 0 "$GF_RC"
assert_eq "fps=24: encoded once more" 3 "$(encodes "$job")"
assert_eq "fps=24: the video is 24 fps" "24/1" "$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$mp4")"
run "${small[@]}" --set video.fps=24 "$job"
assert_eq "fps=24 again: not encoded again" 3 "$(encodes "$job")"

# --- a narration lost: the TTS call is redone; identical audio leaves the video as it is ------------
rm "$job/audio/s03.wav"
requests=$(fake_count true)
run "${small[@]}" --set video.fps=24 "$job"
assert_eq "lost narration: exit 0" 0 "$GF_RC"
assert_eq "lost narration: one request (the narration)" $((requests + 1)) "$(fake_count true)"
assert_eq "lost narration: same bytes, so the video is not encoded again" 3 "$(encodes "$job")"

# --- captions are data: a narration holding blank lines and SRT structure of its own (issue 13,
# finding 7) stays inside its scene's cue; subtitles.srt keeps one cue per scene
jobi=$(short_job inject)
run "${small[@]}" "$jobi"
assert_eq "injection job: exit 0" 0 "$GF_RC"
evil=$'The keeper climbs.\n \n\t\n99\n00:00:00,000 --> 00:09:00,000\nINJECTED CUE\n\n100\n00:00:01,000 --> 00:00:02,000\nSECOND'
jq --arg n "$evil" '.scenes[1].narration = $n' "$jobi/analysis.json" >"$T_DIR/analysis.json"
cp "$T_DIR/analysis.json" "$jobi/analysis.json"
run "${small[@]}" "$jobi"
assert_eq "injection job, narration edited: exit 0" 0 "$GF_RC"
srti="$jobi/subtitles.srt"
assert_eq "still one cue per scene" 3 "$(grep -c -- '-->' "$srti")"
assert_eq "the cue numbers are 1 2 3" "1 2 3" "$(awk 'BEGIN { RS = ""; FS = "\n" } { print $1 }' "$srti" | paste -sd' ')"
check "the injected timing line is defused (no '-->' in it)" grep -qx '00:00:00,000 -> 00:09:00,000' "$srti"
assert_eq "the injected text is inside cue 2" "2" \
    "$(awk 'BEGIN { RS = ""; FS = "\n" } /INJECTED CUE/ { print $1 }' "$srti")"
check "no line of it is a cue of its own (no blank line inside a cue)" \
    test "$(awk 'BEGIN { RS = "" } END { print NR }' "$srti")" = 3

# --- small encodes: Ken Burns moves, no motion stands still, cuts, burned-in subtitles -------------
# differ A B: per mille of the pixels of two gray frames that differ by more than 16 levels
# (more than the encoder's own noise)
differ() {
    cmp -l "$1" "$2" | awk -v n="$(stat -c %s "$1")" '
        function oct(s, v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
        { d = oct($2) - oct($3); if (d > 16 || d < -16) c++ }
        END { print int(c * 1000 / n) }'
}
# changed VIDEO T1 T2: how much the frames at T1 and T2 seconds differ (see differ)
changed() {
    ffmpeg -v error -ss "$2" -i "$1" -frames:v 1 -f rawvideo -pix_fmt gray -y "$T_DIR/f1.gray"
    ffmpeg -v error -ss "$3" -i "$1" -frames:v 1 -f rawvideo -pix_fmt gray -y "$T_DIR/f2.gray"
    differ "$T_DIR/f1.gray" "$T_DIR/f2.gray"
}
job2=$(short_job cuts)
run "${small[@]}" --set video.motion=kenburns "$job2"
assert_eq "kenburns: exit 0" 0 "$GF_RC"
moved=$(changed "$job2/video.mp4" 0.1 1.9)
check "kenburns: the picture moves within a scene ($moved per mille of pixels change)" test "$moved" -ge 10
run "${small[@]}" --set video.transition=0s "$job2"
assert_eq "cuts: exit 0" 0 "$GF_RC"
still=$(changed "$job2/video.mp4" 0.1 1.9)
check "no motion: the picture stands still within a scene ($still per mille of pixels change)" test "$still" -lt 5
mapfile -t secs2 < <(narration_secs "$job2")
sum2=$(printf '%s\n' "${secs2[@]}" | awk '{ s += $1 } END { printf "%.6f", s }')
check "cuts: the duration is the sum of the narrations ($sum2 s)" near "$(probe "$job2/video.mp4" format=duration)" "$sum2" 0.1
mapfile -t cues2 < <(srt_times "$job2/subtitles.srt")
read -r s e <<<"${cues2[1]}"
check "cuts: cue 2 starts when narration 2 does" near "$s" "${secs2[0]}" 0.002
cp "$job2/video.mp4" "$T_DIR/plain.mp4"
run "${small[@]}" --set video.transition=0s --set video.burn_subtitles=true "$job2"
assert_eq "burned subtitles: exit 0" 0 "$GF_RC"
ffmpeg -v error -ss 1 -i "$T_DIR/plain.mp4" -frames:v 1 -f rawvideo -pix_fmt gray -y "$T_DIR/plain.gray"
ffmpeg -v error -ss 1 -i "$job2/video.mp4" -frames:v 1 -f rawvideo -pix_fmt gray -y "$T_DIR/burned.gray"
burned=$(differ "$T_DIR/plain.gray" "$T_DIR/burned.gray")
check "burned subtitles: text drawn over the picture ($burned per mille of pixels change)" test "$burned" -ge 5
assert_eq "burned subtitles: no scratch file left" 0 "$(find "$job2" -name '.*.tmp-*' | wc -l)"

# --- transitions longer than a scene: refused before FFmpeg runs --------------------------------------
run "${small[@]}" --set video.transition=9s "$job2"
assert_eq "too long a transition: the stage fails (exit 1)" 1 "$GF_RC"
assert_file_contains "too long a transition: the scene is named" "too short for its" "$T_DIR/last.err"

# --- SIGINT while encoding: FFmpeg is killed, the temporary file removed, the next run encodes --------
job3=$(short_job stopped)
"$GEMFLOW" run "${FAST_RPM[@]}" --set video.preset=veryslow "$job3" >/dev/null 2>"$T_DIR/stop.err" &
pid=$!
wait_for "the encode's first progress line (or the run's end)" 300 \
    eval 'grep -q "\"event\":\"encode_progress\"" "$job3/progress.jsonl" 2>/dev/null || ! kill -0 $pid 2>/dev/null'
ffpids=$(pgrep -P $pid -d ' ' ffmpeg)
check "FFmpeg was running (pids $ffpids: the segments encoded side by side)" test -n "$ffpids"
kill -INT $pid
wait $pid
assert_eq "SIGINT while encoding exits 3" 3 "$?"
gone=1
for p in $ffpids; do [ -e "/proc/$p" ] && gone=0; done
assert_eq "every FFmpeg is gone (killed and reaped before gemflow exited)" 1 "$gone"
assert_eq "no item_done for the abandoned encode" 0 "$(video_done "$job3")"
assert_eq "no item_failed either" 0 "$(jq -s '[.[] | select(.event == "item_failed")] | length' "$job3/progress.jsonl")"
assert_eq "the temporary files are removed" 0 "$(find "$job3" -name '.*.tmp-*' | wc -l)"
check "no video.mp4 yet" test ! -e "$job3/video.mp4"
run "${small[@]}" "$job3"
assert_eq "the next run finishes" 0 "$GF_RC"
assert_eq "... with the video" 1 "$(video_done "$job3")"

# --- FFmpeg missing: exit 2, the package named, before any request ------------------------------------
job4=$(short_job noffmpeg)
requests=$(fake_count true)
PATH=/nonexistent "$GEMFLOW" run "${FAST_RPM[@]}" "$job4" >"$T_DIR/noff.out" 2>"$T_DIR/noff.err"
assert_eq "no ffmpeg: exit 2" 2 "$?"
assert_file_contains "no ffmpeg: the Debian package is named" "install the Debian package 'ffmpeg'" "$T_DIR/noff.err"
assert_file_contains "no ffmpeg: the place in the workflow is named" "script-to-media.yaml:" "$T_DIR/noff.err"
assert_eq "no ffmpeg: not one request" "$requests" "$(fake_count true)"
PATH=/nonexistent "$GEMFLOW" validate "$SRC_DIR/workflows/script-to-media.yaml" >/dev/null 2>"$T_DIR/noff-validate.err"
assert_eq "no ffmpeg: validate exits 2" 2 "$?"

# --- FFmpeg fails: the item fails with FFmpeg's own last lines; a fake success is caught -------------
bin="$T_DIR/bin"
mkdir -p "$bin"
real_ffmpeg=$(command -v ffmpeg)
cat >"$bin/ffmpeg" <<EOF
#!/bin/sh
# a stand-in FFmpeg: the real version line, then it fails (or, with FAKE_OK, writes junk)
if [ "\$1" = -version ]; then exec "$real_ffmpeg" -version; fi
for last; do :; done
if [ -n "\$FAKE_OK" ]; then echo "not a video" >"\${last#file:}"; exit 0; fi
echo "[libx264 @ 0x1] something went wrong in the encoder" >&2
echo "Conversion failed!" >&2
exit 1
EOF
chmod +x "$bin/ffmpeg"
job5=$(short_job broken)
PATH="$bin:$PATH" run "${small[@]}" "$job5"
assert_eq "FFmpeg failing: exit 1" 1 "$GF_RC"
assert_file_contains "FFmpeg failing: its words are in the error" "Conversion failed!" "$T_DIR/last.err"
assert_eq "FFmpeg failing: item_failed quotes FFmpeg's stderr" true \
    "$(jq -s '[.[] | select(.event == "item_failed" and .stage == "video")] | last | .error.message | contains("something went wrong in the encoder")' "$job5/progress.jsonl")"
assert_eq "FFmpeg failing: the call record keeps its stderr" true "$(jq '.response.body.stderr | contains("Conversion failed!")' "$job5/.gemflow/calls/video/video.json")"
"$GEMFLOW" status "${QUICK[@]}" "${small[@]}" "$job5" >"$T_DIR/status.out" 2>&1
assert_file_contains "FFmpeg failing: status shows why" "Conversion failed!" "$T_DIR/status.out"
FAKE_OK=1 PATH="$bin:$PATH" run "${small[@]}" "$job5"
assert_eq "FFmpeg claiming success with junk: exit 1" 1 "$GF_RC"
assert_file_contains "FFmpeg claiming success with junk: caught (ffprobe checks every segment)" "ffprobe cannot read what ffmpeg wrote" "$T_DIR/last.err"
check "no video.mp4 from junk" test ! -e "$job5/video.mp4"
run "${small[@]}" "$job5"
assert_eq "with the real FFmpeg the job finishes" 0 "$GF_RC"
finish
