#!/usr/bin/env bash
# Builds oneDNN 3.13.1 as a static library trimmed to what kdsr uses, for the addon's
# KDSR_ONEDNN_DIR option (packages/kdsr-cuda/README.md, "oneDNN"):
#   CPU only, OpenMP runtime (the addon's own), float32 training (forward and backward) of the
#   primitives kdsr calls (convolution, reorder, matmul, reduction), JIT kernels up to AVX-512
#   (the AMX kernels are for bf16/int8, which kdsr does not use), no graph API, examples or tests,
#   position-independent (it is linked into a shared library).
# Usage: tools/build-onednn.sh [install prefix]   (default <repo>/.onednn/3.13.1)
# Environment: ONEDNN_TARBALL (default ../shared/third_party/oneDNN-3.13.1.tar.gz), JOBS (default 2).
# Then: npx cmake-js compile --CDKDSR_ONEDNN_DIR=<prefix>  (in packages/kdsr-cuda), or
#       KDSR_ONEDNN_DIR=<prefix> npm run build:native -w @kdsr/cuda
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
version=3.13.1
tarball="${ONEDNN_TARBALL:-$repo/../shared/third_party/oneDNN-$version.tar.gz}"
prefix="${1:-$repo/.onednn/$version}"
jobs="${JOBS:-2}"
[ -f "$tarball" ] || { echo "build-onednn: $tarball not found (set ONEDNN_TARBALL to the oneDNN $version source archive)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

cmake -S "$work/oneDNN-$version" -B "$work/build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DONEDNN_LIBRARY_TYPE=STATIC \
  -DONEDNN_CPU_RUNTIME=OMP \
  -DONEDNN_GPU_RUNTIME=NONE \
  -DONEDNN_BUILD_GRAPH=OFF \
  -DONEDNN_BUILD_EXAMPLES=OFF \
  -DONEDNN_BUILD_TESTS=OFF \
  -DONEDNN_BUILD_DOC=OFF \
  -DONEDNN_ENABLE_WORKLOAD=TRAINING \
  -DONEDNN_ENABLE_PRIMITIVE="CONVOLUTION;REORDER;MATMUL;REDUCTION" \
  -DONEDNN_ENABLE_PRIMITIVE_CPU_ISA=AVX512 \
  -DONEDNN_ENABLE_JIT_PROFILING=OFF \
  -DONEDNN_ENABLE_ITT_TASKS=OFF
cmake --build "$work/build" --parallel "$jobs"
rm -rf "$prefix"
cmake --install "$work/build"
echo "build-onednn: oneDNN $version installed in $prefix"
