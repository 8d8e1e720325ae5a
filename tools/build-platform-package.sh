#!/usr/bin/env bash
# Builds the prebuilt platform package @kdsr/cuda-linux-x64-gnu (packages/kdsr-cuda-linux-x64-gnu/lib):
# the addon from packages/kdsr-cuda's CMake project, CPU backend with oneDNN (required), plus every
# shared library it needs beyond what Node itself needs (glibc, libstdc++, libgcc_s): oneDNN, its
# OpenCL loader and OpenMP, found through the addon's $ORIGIN run path. The CUDA backend is left out:
# the prebuilt addon must load on machines without cuDNN and cuBLAS (build from source for CUDA).
#
#   tools/build-platform-package.sh      (incremental: the build folder is packages/kdsr-cuda/build-prebuilt)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
engine="$repo/packages/kdsr-cuda"
lib="$repo/packages/kdsr-cuda-linux-x64-gnu/lib"

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] || { echo "build-platform-package: builds linux-x64 only, this is $(uname -s)-$(uname -m)" >&2; exit 1; }

cd "$engine"
KDSR_CUDA=OFF "$repo/node_modules/.bin/cmake-js" build --log-level error --out build-prebuilt \
  --CDKDSR_ONEDNN=ON --CDKDSR_BUNDLED_LIBS=ON --CDKDSR_NATIVE_TESTS=OFF
addon="$engine/build-prebuilt/Release/kdsr_native.node"

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
onednn="$(env -u LD_LIBRARY_PATH node -p "require('$lib/kdsr_native.node').buildInfo().onednn")"
[[ "$onednn" != "null" ]] || { echo "build-platform-package: the addon was built without oneDNN" >&2; exit 1; }

# What the user's system must provide (package.json's "libc" field cannot say which version).
needs="$(objdump -T "$lib"/*.node "$lib"/*.so* | grep -oE '(GLIBC|GLIBCXX)_[0-9.]+' | sort -V | awk -F_ '{ v[$1] = $0 } END { print v["GLIBC"], v["GLIBCXX"] }')"
echo "build-platform-package: $lib: oneDNN $onednn; needs $needs; $(du -sh "$lib" | cut -f1) unpacked" >&2
ls -l "$lib" >&2
