#!/usr/bin/env bash
# demo.sh: build gemflow and run the sample job offline, against the bundled fake Gemini server.
set -euo pipefail
cd "$(dirname "$0")"
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

out="out/demo-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
cp -r samples/lighthouse "$out/lighthouse"
job="$out/lighthouse"

portfile="$out/fake.port"
build/tests/fake-gemini --port 0 --port-file "$portfile" --log "$out/fake-requests.jsonl" \
    --latency-ms 300 --latency-jitter-ms 200 --quiet &
fake=$!
trap 'kill $fake 2>/dev/null; wait $fake 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
[ -s "$portfile" ] || { echo "demo: the fake server did not start" >&2; exit 1; }

echo "demo: running $job OFFLINE against the bundled fake Gemini server (not the real API)"
set +e
# The API calls take seconds; the last stage, encoding video.mp4 with FFmpeg, takes longer:
# about as long as the video on two cores.
GEMINI_BASE_URL="http://127.0.0.1:$(cat "$portfile")" GEMINI_API_KEY="offline-demo-key" \
    build/gemflow run "$job"
rc=$?
set -e
echo
echo "demo: exit status $rc"
echo "demo: artifacts:     $job/ (analysis.json, prompts.json, images/, audio/, video.mp4,"
echo "demo:                subtitles.srt, manifest.json)"
echo "demo: progress log:  $job/progress.jsonl"
echo "demo: call records:  $job/.gemflow/calls/"
echo "demo: this ran offline against the fake server in tests/fake; the images and audio are"
echo "demo: synthetic test patterns. For real media: export GEMINI_API_KEY=...; build/gemflow run samples/lighthouse"
exit $rc
