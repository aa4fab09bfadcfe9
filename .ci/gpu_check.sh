#!/usr/bin/env bash
# The GPU check (.ci/gpu_check.py): the CUDA paths this project's CPUs cannot run, on one NVIDIA GPU.
#   bash .ci/gpu_check.sh --bundle [DIR]   with internet: download .ci/gpu_wheels.txt's wheels into DIR (.whl/)
#   bash .ci/gpu_check.sh [DIR] [OUT]      on the GPU machine (PyTorch there, no internet): install them into a
#                                          private folder, put this checkout on PYTHONPATH, run the check; writes
#                                          OUT/gpu_check.json and OUT/gpu_check.txt (OUT: $OUT, else gpu_check/)
# Without CUDA the check runs its CPU parts at a tiny budget and marks the CUDA ones skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--bundle" ]; then
  WHL=${2:-.whl}; mkdir -p "$WHL"
  # the GPU machine's Python (3.12 on this workplace's images); x86-64 manylinux wheels only
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version "${PYV:-3.12}" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$WHL" -r .ci/gpu_wheels.txt
  du -sh "$WHL"; ls "$WHL"; exit 0
fi
WHL=${1:-.whl}; OUT=${2:-${OUT:-gpu_check}}
SITE=$(mktemp -d -t m2s_gpu_site.XXXXXX)
if compgen -G "$WHL/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHL"/*.whl
fi
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 .ci/gpu_check.py --out "$OUT"
