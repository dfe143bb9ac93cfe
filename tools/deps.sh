#!/usr/bin/env bash
# deps.sh: install the Debian packages gemflow needs to build and test, when missing.
# Uses apt-get, through sudo when not root. Sourced or run by demo.sh and test.sh.
#   tools/deps.sh [--full]
set -euo pipefail

GEMFLOW_PACKAGES=(
    build-essential cmake pkg-config
    libcurl4-openssl-dev libyaml-dev libcjson-dev libpng-dev libjpeg62-turbo-dev libwebp-dev
    libsndfile1-dev libssl-dev
    libmicrohttpd-dev libcmocka-dev
    curl jq ffmpeg
    # .ci/run checks the formatting
    clang-format
    # the many-jobs tests: GNU parallel (the Slurm test installs slurm-wlm and munge itself,
    # in the full run only)
    parallel
    # the inspection commands' tests: report.html in a real headless browser (driven by node
    # over the DevTools pipe), status --json against its JSON Schema, the man page's lint,
    # and `script` (bsdutils) for a terminal
    chromium nodejs python3-jsonschema groff-base bsdutils
    # test.sh's fuzzing build: clang with its libFuzzer and sanitizer runtimes
    clang libclang-rt-dev
)

# --full (./test.sh --full, CI): also what only the full suite uses: a one-node Slurm cluster
# for tests/e2e/t_slurm.sh (slurmctld, slurmd, the client commands, and munge for their auth)
if [ "${1:-}" = --full ]; then
    GEMFLOW_PACKAGES+=(slurm-wlm munge)
fi

missing=()
for p in "${GEMFLOW_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "gemflow: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "gemflow: need root or sudo to install: ${missing[*]}" >&2
    exit 2
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
