#!/usr/bin/env bash
# gf-verify, the independent artifact checker the other tests lean on: images made by FFmpeg
# (PNG, JPEG, WebP) pass; a cut-off JPEG or WebP, JPEG bytes under a .png name and a size that
# differs from the manifest's media facts are each found, even with the manifest's sha256 and
# byte count updated to match (so only decoding can tell).
source "$(dirname "$0")/lib.sh"
: "${GF_VERIFY:=$SRC_DIR/build/tests/gf-verify}"
command -v ffmpeg >/dev/null || { echo "not ok: ffmpeg is needed" >&2; exit 1; }

job=$T_DIR/job
mkdir -p "$job/images"
echo '{"ts":"2026-12-04T00:00:00.000Z","event":"run_start"}' >"$job/progress.jsonl"

# make NAME [FFMPEG OUTPUT OPTIONS...]: a 64x48 test picture in images/NAME
make() {
    local name=$1
    shift
    ffmpeg -v error -y -f lavfi -i testsrc=size=64x48 -frames:v 1 "$@" "$job/images/$name" ||
        fail "ffmpeg could not write $name"
}

# manifest [WIDTH HEIGHT]: list every file under images/ with its real size and sha256 (media
# facts WIDTHxHEIGHT, 64x48 unless given)
manifest() {
    local w=${1:-64} h=${2:-48} f
    for f in "$job"/images/*; do
        jq -n --arg path "images/$(basename "$f")" --arg sha "$(sha256sum "$f" | cut -d' ' -f1)" \
            --argjson bytes "$(stat -c %s "$f")" --argjson w "$w" --argjson h "$h" \
            '{path: $path, sha256: $sha, bytes: $bytes, media: {width: $w, height: $h}}'
    done | jq -s '{artifacts: .}' >"$job/manifest.json"
}

# verify: run gf-verify on the job; sets OUT and RC
verify() {
    OUT=$("$GF_VERIFY" "$job" 2>&1)
    RC=$?
}

# cut FILE N: keep the first N bytes of images/FILE
cut_to() {
    head -c "$2" "$job/images/$1" >"$T_DIR/cut" && mv "$T_DIR/cut" "$job/images/$1"
}

make a.png
make b.jpg -pix_fmt yuvj420p
make c.webp -c:v libwebp
manifest
verify
assert_eq "PNG, JPEG and WebP from FFmpeg: exit 0" 0 "$RC"
assert_contains "all three counted, none bad" "artifacts=3 bad=0" "$OUT"

size=$(stat -c %s "$job/images/b.jpg")
cut_to b.jpg $((size - 2))
manifest
verify
assert_eq "a JPEG without its EOI: exit 1" 1 "$RC"
assert_contains "a JPEG without its EOI is corrupt" "corrupt images/b.jpg: the JPEG does not decode" "$OUT"
assert_contains "only that one is bad" "artifacts=3 bad=1" "$OUT"

make b.jpg -pix_fmt yuvj420p
size=$(stat -c %s "$job/images/c.webp")
cut_to c.webp $((size / 2))
manifest
verify
assert_eq "a WebP cut in half: exit 1" 1 "$RC"
assert_contains "a WebP cut in half is corrupt" "corrupt images/c.webp: the WebP does not decode" "$OUT"

make c.webp -c:v libwebp
cp "$job/images/b.jpg" "$job/images/d.png"
manifest
verify
assert_eq "JPEG bytes named .png: exit 1" 1 "$RC"
assert_contains "JPEG bytes named .png are mislabelled" "mislabelled images/d.png: JPEG bytes" "$OUT"

rm "$job/images/d.png"
manifest 64 49
verify
assert_eq "media facts that differ: exit 1" 1 "$RC"
assert_contains "the JPEG's size is named" "wrong size images/b.jpg: the manifest says 64x49, the image is 64x48" "$OUT"
assert_contains "the WebP's size is named" "wrong size images/c.webp" "$OUT"
assert_contains "every image is wrong" "artifacts=3 bad=3" "$OUT"

finish
