#!/usr/bin/env bash
# The video stage in segments: each scene's picture, each crossfade and the sound track is its
# own checkpointed segment (.gemflow/segments/video/<key>.mp4|m4a), encoded side by side and
# joined without re-encoding. Which segments a run encoded is read from its segment_done events.
# A changed image re-encodes its scene and its two crossfades, nothing else; a kill -9 in the
# middle of an encode loses no finished segment. Scene clips (clip:) are shown instead of the
# still, cut or held to the narration; clip_sound mute/under/keep sets the clip's sound in the
# mix, measured in the output, and changing it re-encodes the sound alone.
source "$(dirname "$0")/lib.sh"
fake_start

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
SMALL=(--set video.resolution=320x180 --set video.fps=10 --set video.preset=ultrafast --set video.motion=none)
run() {
    "$GEMFLOW" run "$@" >"$T_DIR/last.out" 2>"$T_DIR/last.err"
    GF_RC=$?
    [ "$GF_RC" = 0 ] || tail -5 "$T_DIR/last.err" >&2
}
probe() { ffprobe -v error -show_entries "$2" -of default=nw=1:nk=1 "$1"; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# encoded JOB: the segments the last run of the video encoded, sorted, on one line
encoded() {
    jq -rs '(map(.event == "encode_start") | rindex(true)) as $i
        | [.[$i:][] | select(.event == "segment_done") | .segment] | sort | join(" ")' "$1/progress.jsonl"
}
# all_encoded JOB: every segment any run encoded, sorted
all_encoded() { jq -rs '[.[] | select(.event == "segment_done") | .segment] | sort | join(" ")' "$1/progress.jsonl"; }
encodes() { events "$1/progress.jsonl" encode_start; }
seconds_of() { awk -v f="$(wav_frames "$1")" -v r="$(probe "$1" stream=sample_rate)" 'BEGIN { printf "%.6f\n", f / r }'; }
ALL="s01 s01>s02 s02 s02>s03 s03 sound"

# --- the first run encodes every segment, as many at a time as there are CPUs --------------------
job=$(short_job seg)
run "${SMALL[@]}" "$job"
assert_eq "first run: exit 0" 0 "$GF_RC"
assert_eq "first run: every segment encoded" "$ALL" "$(encoded "$job")"
segdir="$job/.gemflow/segments/video"
assert_eq "five picture segments and the sound in the job's .gemflow/segments/video" "5 1" \
    "$(find "$segdir" -name '*.mp4' | wc -l) $(find "$segdir" -name '*.m4a' | wc -l)"
assert_eq "encode_start: as many segments at a time as CPUs" "$(nproc)" \
    "$(jq -s '[.[] | select(.event == "encode_start")] | last | .jobs' "$job/progress.jsonl")"
assert_eq "each segment_done names its key, and its file is in the cache" true \
    "$(jq -rs '[.[] | select(.event == "segment_done") | .key] | length == 6' "$job/progress.jsonl")"
for k in $(jq -r 'select(.event == "segment_done") | .key' "$job/progress.jsonl"); do
    [ -s "$segdir/$k.mp4" ] || [ -s "$segdir/$k.m4a" ] || fail "segment $k is not in the cache"
done
mp4="$job/video.mp4"
assert_eq "joined without re-encoding: H.264 + AAC at exactly 10 fps" "h264 aac 10/1" \
    "$(probe "$mp4" stream=codec_name | tr '\n' ' ')$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$mp4")"
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$mp4")
dur=$(probe "$mp4" format=duration)
check "$frames frames = $dur s x 10 fps (the segments tile the timeline)" near "$frames" "$(awk -v d="$dur" 'BEGIN { print d * 10 }')" 1
assert_eq "progress: percent never goes down and ends at 100" "true 100" \
    "$(jq -rs '[.[] | select(.event == "encode_progress") | .percent] | "\(. == sort) \(last)"' "$job/progress.jsonl")"
assert_eq "the call record lists the segments encoded" 6 "$(jq '.response.body.encoded | length' "$job/.gemflow/calls/video/video.json")"
run "${SMALL[@]}" "$job"
assert_eq "nothing changed: the video is not encoded again" 1 "$(encodes "$job")"

# --- one image changed: its scene and its two crossfades, nothing else ---------------------------
sha_before=$(sha256sum "$mp4" | cut -d' ' -f1)
cp "$job/images/s01.jpg" "$job/images/s02.jpg"
run "${SMALL[@]}" "$job"
assert_eq "changed image: exit 0" 0 "$GF_RC"
assert_eq "changed image s02: exactly s02 and the crossfades into and out of it" "s01>s02 s02 s02>s03" "$(encoded "$job")"
check "changed image: a new video" test "$(sha256sum "$mp4" | cut -d' ' -f1)" != "$sha_before"
assert_eq "changed image: still exactly 10 fps" "10/1" "$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$mp4")"
assert_eq "segments of the old image are pruned" "5 1" \
    "$(find "$segdir" -name '*.mp4' | wc -l) $(find "$segdir" -name '*.m4a' | wc -l)"
cp "$job/images/s03.jpg" "$job/images/s01.jpg"
run "${SMALL[@]}" "$job"
assert_eq "changed first image: its scene and one crossfade" "s01 s01>s02" "$(encoded "$job")"

# --- kill -9 in the middle: the finished segments are kept, the resume makes only the rest ------
job2=$(short_job killed)
run "${SMALL[@]}" "$job2" # the API stages and a first video
# a slow encode of the same scenes: Ken Burns at 'veryslow', 24 fps; 360p keeps each scene's
# segment at a second or more of CPU (the kill lands while FFmpeg is busy) without the minute a
# 720p encode and its resume took
SLOW=(--set video.resolution=640x360 --set video.fps=24 --set video.preset=veryslow --set video.motion=kenburns)
"$GEMFLOW" run "${SLOW[@]}" "$job2" >/dev/null 2>"$T_DIR/kill.err" &
pid=$!
starts=$(encodes "$job2")
# the slow run has started its encode and finished a first segment (or has ended)
slow_progress() {
    ! kill -0 $pid 2>/dev/null ||
        { [ "$(encodes "$job2")" -gt "$starts" ] && [ -n "$(encoded "$job2")" ]; }
}
wait_for "a first segment of the slow encode" 300 slow_progress
ffpids=$(pgrep -P $pid -d ' ' ffmpeg)
kill -9 $pid
wait $pid 2>/dev/null
for p in $ffpids; do kill -9 "$p" 2>/dev/null; done # orphans of the killed run (ours, by pid)
before=$(encoded "$job2")
n_before=$(wc -w <<<"$before")
check "killed after $n_before of 6 segments ($before), FFmpeg still busy on others ($ffpids)" test "$n_before" -ge 1 -a "$n_before" -lt 6
run "${SLOW[@]}" "$job2"
assert_eq "resume: exit 0" 0 "$GF_RC"
after=$(encoded "$job2")
# the sound is the small run's: no picture setting is part of its key
assert_eq "resume: the cache held what the killed run finished, and the sound" "$((n_before + 1))" \
    "$(jq -s '[.[] | select(.event == "encode_start")] | last | .cached' "$job2/progress.jsonl")"
both=$(printf '%s\n' $before $after | sort | uniq -d | tr '\n' ' ')
assert_eq "resume: no segment finished before the kill was encoded again" "" "$both"
assert_eq "resume: between them, every picture segment once" "${ALL% sound}" "$(printf '%s\n' $before $after | sort | tr '\n' ' ' | sed 's/ $//')"
assert_eq "resume: no temporary file left behind" 0 "$(find "$job2" -name '.*.tmp-*' | wc -l)"
assert_eq "resume: the video is 24 fps" "24/1" "$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$job2/video.mp4")"

# --- scene clips -------------------------------------------------------------------------------------
job3=$(short_job clips)
run "${SMALL[@]}" "$job3"
mkdir -p "$job3/clips"
# s01: 30 s of red with a 5 kHz tone: longer than its narration, so it is cut
ffmpeg -v error -f lavfi -i color=red:s=320x240:r=25:d=30 -f lavfi -i sine=f=5000:d=30:sample_rate=48000 \
    -shortest -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$job3/clips/s01.mp4"
# s02: 1.5 s, green then blue from 1 s, silent: shorter than its narration, so its last frame holds
ffmpeg -v error -f lavfi -i color=green:s=320x240:r=25:d=1 -f lavfi -i color=blue:s=320x240:r=25:d=0.5 \
    -filter_complex '[0][1]concat=n=2:v=1' -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$job3/clips/s02.mp4"
# s03 has no clip: it shows its image
CLIP=(--set 'video.clip=clips/{{item.id}}.mp4')
run "${SMALL[@]}" "${CLIP[@]}" "$job3"
assert_eq "clips: exit 0" 0 "$GF_RC"
assert_file_contains "clips: the scene without a clip is named" "scene 's03' has no clip 'clips/s03.mp4'" "$T_DIR/last.err"
assert_eq "clips: the scenes showing clips, the crossfades touching them and the sound (the clip's under the narration) are encoded; s03 is not" \
    "s01 s01>s02 s02 s02>s03 sound" "$(encoded "$job3")"
rec="$job3/.gemflow/calls/video/video.json"
assert_eq "clips: the request records each clip (sha256, length, sound)" "$(sha256sum "$job3/clips/s01.mp4" | cut -d' ' -f1) 30 true 1.5 false true" \
    "$(jq -r '.request.body.scenes | "\(.[0].clip.sha256) \(.[0].clip.duration_ms / 100 | round / 10) \(.[0].clip.has_audio) \(.[1].clip.duration_ms / 100 | round / 10) \(.[1].clip.has_audio) \(.[2].clip.missing)"' "$rec")"
mapfile -t secs < <(for id in s01 s02 s03; do seconds_of "$job3/audio/$id.wav"; done)
want=$(awk -v a="${secs[0]}" -v b="${secs[1]}" -v c="${secs[2]}" 'BEGIN { printf "%.6f", a + b + c - 1 }')
check "clips: the video lasts the narrations ($want s), the 30 s clip cut and the 1.5 s one held" \
    near "$(probe "$job3/video.mp4" format=duration)" "$want" 0.1
# rgb VIDEO T: the colour at the middle of the frame at T seconds, as "R G B"
rgb() {
    ffmpeg -v error -ss "$2" -i "$1" -frames:v 1 -vf 'crop=2:2:iw/2:ih/2,scale=1:1' -f rawvideo -pix_fmt rgb24 - | od -An -tu1 | xargs
}
# is COLOUR "R G B": which of red, green, blue it mostly is
is() { awk -v c="$2" -v want="$1" 'BEGIN { split(c, v, " "); m = v[1] > v[2] ? (v[1] > v[3] ? "red" : "blue") : (v[2] > v[3] ? "green" : "blue"); exit m != want }'; }
s2_start=$(awk -v a="${secs[0]}" 'BEGIN { print a - 0.5 }')
s2_end=$(awk -v a="${secs[0]}" -v b="${secs[1]}" 'BEGIN { print a + b - 1 }')
c1=$(rgb "$job3/video.mp4" "$(awk -v a="${secs[0]}" 'BEGIN { print a / 2 }')")
check "clips: scene 1 shows its (red) clip, not its image ($c1)" is red "$c1"
c2=$(rgb "$job3/video.mp4" "$(awk -v s="$s2_start" 'BEGIN { print s + 0.75 }')")
check "clips: scene 2 shows its clip ($c2)" is green "$c2"
c3=$(rgb "$job3/video.mp4" "$(awk -v e="$s2_end" 'BEGIN { print e - 0.8 }')")
check "clips: scene 2's clip (1.5 s) holds its last, blue, frame to the end of its narration ($c3)" is blue "$c3"
# tone VIDEO: the loudness (dB) of the 5 kHz tone during scene 1 (away from the crossfade)
tone() {
    ffmpeg -hide_banner -nostats -ss 0.2 -t "$(awk -v a="${secs[0]}" 'BEGIN { print a - 0.9 }')" -i "$1" -vn \
        -af 'bandpass=f=5000:width_type=h:w=200,volumedetect' -f null - 2>&1 | sed -n 's/.*mean_volume: \(-*[0-9.]*\) dB/\1/p'
}
under=$(tone "$job3/video.mp4")
requests=$(fake_count true)
for mode in keep mute; do
    run "${SMALL[@]}" "${CLIP[@]}" --set "video.clip_sound=$mode" "$job3"
    assert_eq "clip_sound=$mode: exit 0" 0 "$GF_RC"
    assert_eq "clip_sound=$mode: only the sound track is encoded again" "sound" "$(encoded "$job3")"
    declare "$mode=$(tone "$job3/video.mp4")"
done
check "clip_sound: keep ($keep dB) is the clip at its own level, over 12 dB above under ($under dB)" \
    awk -v k="$keep" -v u="$under" 'BEGIN { exit !(k > u + 12) }'
check "clip_sound: under ($under dB) is still audible, over 20 dB above mute ($mute dB)" \
    awk -v u="$under" -v m="$mute" 'BEGIN { exit !(u > m + 20) }'
assert_eq "clip_sound=mute: no input of the sound track is a clip" false \
    "$(jq '[.response.body.encoded[] | select(.segment == "sound") | .argv[] | test("clips/")] | any' "$rec")"
assert_eq "clip_sound is the video stage's: changing it asked the API for nothing" "$requests" "$(fake_count true)"

# --- bad values: file:line:column ------------------------------------------------------------------
cat >"$job3/workflow.yaml" <<'EOF'
version: 1
use: script-to-media
set:
  video.clip: clips/{{item.id}}.mp4
  video.clip_sound: loud
EOF
"$GEMFLOW" validate "$job3/workflow.yaml" >"$T_DIR/bad.out" 2>"$T_DIR/bad.err"
assert_eq "clip_sound: loud: validate exits 2" 2 "$?"
assert_file_contains "clip_sound: loud: file:line:column and the choices" "workflow.yaml:5:21: bad clip_sound 'loud' (one of mute, under, keep)" "$T_DIR/bad.err"
finish
