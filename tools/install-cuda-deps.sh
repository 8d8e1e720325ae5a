#!/usr/bin/env bash
# Installs cuDNN 9 and cuBLAS 13 (headers and versioned libraries) from the pip packages
# nvidia-cudnn-cu13 and nvidia-cublas into one folder, for building the CUDA backend of
# @kdsr/cuda on a machine that has the CUDA toolkit (nvcc) but not these libraries.
#
#   tools/install-cuda-deps.sh [DIR]     DIR defaults to $KDSR_CUDA_DEPS, else <repo>/.cuda-deps
#
# Progress goes to stderr; stdout is only the environment the build needs, so
#   eval "$(tools/install-cuda-deps.sh)"
# sets CUDNN_ROOT and CUBLAS_ROOT for the next `npm install` / `cmake-js build`.
# CMake also looks in <repo>/.cuda-deps by itself, so the eval is needed only for another DIR.
# Installing twice is a no-op.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${KDSR_CUDA_DEPS:-$repo/.cuda-deps}}"
cudnn="$dir/nvidia/cudnn"
cublas="$dir/nvidia/cu13"

if [[ -f "$cudnn/include/cudnn_version.h" && -e "$cudnn/lib/libcudnn.so.9" &&
      -f "$cublas/include/cublas_v2.h" && -e "$cublas/lib/libcublas.so.13" ]]; then
  echo "install-cuda-deps: cuDNN and cuBLAS already in $dir" >&2
else
  pip="$(command -v pip3 || command -v pip || true)"
  if [[ -z "$pip" ]]; then
    echo "install-cuda-deps: pip is needed to install nvidia-cudnn-cu13 and nvidia-cublas" >&2
    exit 1
  fi
  echo "install-cuda-deps: installing nvidia-cudnn-cu13 and nvidia-cublas into $dir (about 1 GB)" >&2
  # --no-deps: the packages' own dependencies (the CUDA runtime) come from the toolkit.
  "$pip" install --quiet --disable-pip-version-check --retries 1 --no-deps --target "$dir" nvidia-cudnn-cu13 nvidia-cublas >&2
fi

for f in "$cudnn/include/cudnn_version.h" "$cudnn/lib/libcudnn.so.9" "$cublas/include/cublas_v2.h" "$cublas/lib/libcublas.so.13"; do
  [[ -e "$f" ]] || { echo "install-cuda-deps: expected $f after installing; the package layout changed" >&2; exit 1; }
done

echo "export CUDNN_ROOT='$cudnn'"
echo "export CUBLAS_ROOT='$cublas'"
