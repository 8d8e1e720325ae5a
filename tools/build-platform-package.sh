#!/usr/bin/env bash
# Builds the prebuilt platform package @kdsr/cuda-linux-x64-gnu (packages/kdsr-cuda-linux-x64-gnu/lib):
#  - the addon from packages/kdsr-cuda's CMake project, CPU backend with oneDNN (required), plus every
#    shared library it needs beyond what Node itself needs (glibc, libstdc++, libgcc_s): oneDNN, its
#    OpenCL loader and OpenMP, found through the addon's $ORIGIN run path;
#  - the CUDA backend module kdsr_cuda_backend.so (CUDA runtime inside), which the addon loads at run
#    time when the user's cuDNN 9 and cuBLAS can be found, and otherwise reports why not. It is the
#    source build's module (packages/kdsr-cuda/build, brought up to date first: `npm run build:native`,
#    incremental), so CI compiles the CUDA code once: the module depends on no build option of the
#    addon, only on its sources (the ABI tag checks that). Its GPU architectures are that build's
#    KDSR_CUDA_ARCHS (default: SASS for sm_80/86/89/90 plus sm_90 PTX). Without the CUDA toolkit,
#    cuDNN and cuBLAS on this machine the package is CPU-only; KDSR_CUDA=ON makes that an error.
#
#   tools/build-platform-package.sh      (incremental: build folders packages/kdsr-cuda/build-prebuilt and build)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
engine="$repo/packages/kdsr-cuda"
lib="$repo/packages/kdsr-cuda-linux-x64-gnu/lib"

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || { echo "build-platform-package: builds linux-x64 only, this is $(uname -s)-$(uname -m)" >&2; exit 1; }

cd "$engine"
KDSR_CUDA=OFF "$repo/node_modules/.bin/cmake-js" build --log-level error --out build-prebuilt \
  --CDKDSR_ONEDNN=ON --CDKDSR_BUNDLED_LIBS=ON --CDKDSR_NATIVE_TESTS=OFF
addon="$engine/build-prebuilt/Release/kdsr_native.node"
"$repo/node_modules/.bin/cmake-js" build --log-level error
module="$engine/build/Release/kdsr_cuda_backend.so"

rm -rf "$lib"
mkdir -p "$lib/licenses"
cp "$addon" "$lib/kdsr_native.node"
strip --strip-unneeded "$lib/kdsr_native.node"

# Every library the loader resolves for the addon (dependencies of dependencies included), less the
# C/C++ runtime that Node itself links against.
base='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so'
while read -r name path; do
  [[ "$name" =~ $base ]] && continue
  [[ -f "$path" ]] || { echo "build-platform-package: $name is needed but was not found (ldd: $path)" >&2; exit 1; }
  cp -L "$path" "$lib/$name"
  # Their licences travel with them (Debian keeps each package's in /usr/share/doc/<package>/copyright).
  if pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)" && [[ -f "/usr/share/doc/$pkg/copyright" ]]; then
    cp "/usr/share/doc/$pkg/copyright" "$lib/licenses/$pkg.copyright"
  else
    echo "build-platform-package: WARNING: no licence file found for $name" >&2
  fi
done < <(env -u LD_LIBRARY_PATH ldd "$addon" | awk '$2 == "=>" { print $1, $3 }')

# The check that matters: with the system's copies out of reach, every bundled library resolves
# inside lib/ and the addon loads with oneDNN.
resolved="$(env -u LD_LIBRARY_PATH ldd "$lib/kdsr_native.node")"
for f in "$lib"/*.so*; do
  grep -q "$(basename "$f") => $lib/" <<<"$resolved" || { echo "build-platform-package: $(basename "$f") does not resolve inside $lib:" >&2; echo "$resolved" >&2; exit 1; }
done
build_info() { env -u LD_LIBRARY_PATH KDSR_CUDA_LIBRARY_PATH="$1" node -p "JSON.stringify(require('$lib/kdsr_native.node').buildInfo())"; }
field() { node -p "String(($1).$2)"; }
no_libraries="$(mktemp -d)"
trap 'rm -rf "$no_libraries"' EXIT
cpu_only="$(build_info "$no_libraries")"
onednn="$(field "$cpu_only" onednn)"
[[ "$onednn" != "null" ]] || { echo "build-platform-package: the addon was built without oneDNN" >&2; exit 1; }

# The CUDA module, when the source build has one: loaded by the prebuilt addon with the source build's
# cuDNN/cuBLAS, and without them the addon stays CPU-only saying which library is missing.
cuda="CPU-only (the source build has no CUDA module: see its configure output)"
if [[ -f "$module" ]]; then
  cp "$module" "$lib/kdsr_cuda_backend.so"
  strip --strip-unneeded "$lib/kdsr_cuda_backend.so"
  [[ "$(field "$(build_info "$no_libraries")" cuda.error)" == *"cannot open shared object file"* ]] ||
    { echo "build-platform-package: without cuDNN/cuBLAS the module should fail to load; buildInfo(): $(build_info "$no_libraries")" >&2; exit 1; }
  found="$(node -p "const c = require('$engine/build/Release/kdsr_native.node').buildInfo().cuda; c && c.loaded ? [...new Set([c.cudnn.file, c.cublas.file].map((f) => require('path').dirname(f)))].join(':') : ''")"
  [[ -n "$found" ]] || { echo "build-platform-package: the source build's CUDA module does not load here" >&2; exit 1; }
  with_cuda="$(build_info "$found")"
  [[ "$(field "$with_cuda" cuda.loaded)" == "true" ]] || { echo "build-platform-package: the prebuilt addon does not load the CUDA module: $with_cuda" >&2; exit 1; }
  cuda="CUDA $(field "$with_cuda" cuda.runtime) for $(field "$with_cuda" cuda.architectures)"
  # The CUDA runtime is linked into the module: its licence travels with it.
  cudart="$(sed -n 's/^CUDA_cudart_static_LIBRARY:FILEPATH=//p' "$engine/build/CMakeCache.txt")"
  toolkit="$(dirname "$(dirname "$cudart")")"
  licence="$(ls "$toolkit/EULA.txt" "$toolkit"/dist-info/nvidia_cuda_runtime-*/licenses/License.txt 2>/dev/null | head -1 || true)"
  if [[ -n "$licence" ]]; then cp "$licence" "$lib/licenses/cuda-runtime.EULA.txt"; else echo "build-platform-package: WARNING: no licence file found for the CUDA runtime in $toolkit" >&2; fi
elif [[ "${KDSR_CUDA:-}" == "ON" ]]; then
  echo "build-platform-package: KDSR_CUDA=ON but the source build has no CUDA module ($module)" >&2
  exit 1
fi

# What the user's system must provide (package.json's "libc" field cannot say which version).
needs="$(objdump -T "$lib"/*.node "$lib"/*.so* | grep -oE '(GLIBC|GLIBCXX)_[0-9.]+' | sort -V | awk -F_ '{ v[$1] = $0 } END { print v["GLIBC"], v["GLIBCXX"] }')"
echo "build-platform-package: $lib: oneDNN $onednn; $cuda; needs $needs; $(du -sh "$lib" | cut -f1) unpacked" >&2
ls -l "$lib" >&2
