# clip_lib.sh: a job whose workflow makes scenes (json), an image per scene and a clip per scene
# (kind clip, Gemini Omni Flash on the fake's Interactions API). Source after lib.sh.

# clip_job NAME [SCENES]: a job directory with a script of SCENES scenes (default 3); prints it.
clip_job() {
    local dir="$T_DIR/$1" n=${2:-3} i
    mkdir -p "$dir"
    {
        echo "The Keeper's Morning"
        for i in $(seq 1 "$n"); do
            printf '\nSCENE %d\nElias climbs the iron steps of the lighthouse, step %d, slowly.\n' "$i" "$i"
        done
    } >"$dir/script.txt"
    cat >"$dir/scenes.schema.json" <<'EOF'
{"type": "object", "required": ["scenes"], "properties": {"scenes": {"type": "array",
 "minItems": 1, "items": {"type": "object", "required": ["id", "image_prompt", "motion_prompt"],
 "properties": {"id": {"type": "string"}, "image_prompt": {"type": "string"},
 "motion_prompt": {"type": "string"}}}}}}
EOF
    cat >"$dir/workflow.yaml" <<'EOF'
version: 1
name: clip-test
inputs:
  script: script.txt
defaults:
  model: gemini-3.8-flash
  timeout: 60s
  retries: 2
stages:
  scenes:
    kind: json
    prompt: "Split this script into scenes, each with an image prompt and a motion prompt.\n---\n{{script}}\n---"
    schema: scenes.schema.json
    output: scenes.json
  images:
    kind: image
    model: gemini-nano-banana-2.1
    foreach: scenes.scenes
    prompt: "{{item.image_prompt}}"
    aspect_ratio: "16:9"
    output: images/{{item.id}}.jpg
  clips:
    kind: clip
    foreach: scenes.scenes
    image: images/{{item.id}}.jpg
    prompt: "{{item.motion_prompt}}"
    duration: 4
    output: clips/{{item.id}}.mp4
EOF
    echo "$dir"
}

# creates_per_body: the fake's accepted creates grouped by request body, e.g. "1 1 1"
creates_per_body() {
    jq -sr '[.[] | select(.verb == "interactions.create" and .status == 200)]
            | group_by(.body_sha256) | map(length) | map(tostring) | join(" ")' "$FAKE_LOG"
}

# clip_secs FILE: the duration of the clip's video stream, as ffprobe reads it
clip_secs() {
    ffprobe -v error -select_streams v:0 -show_entries stream=duration -of csv=p=0 "$1"
}

# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'; }
