#!/usr/bin/env bash
# Runs the CUDA checks of @kdsr/cuda on a GPU machine that may have no package registry and no Node:
# the GPU tests (jest: cuda-backend + cuda-parity) and the benchmark against PyTorch, logs in $OUT.
#
# Expects, built on the development machine and shipped with the working tree:
#   packages/kdsr-cuda/build/Release/kdsr_native.node and kdsr_cuda_backend.so (the CUDA module beside it)
#   packages/kdsr-cuda/dist/                             (npx tsc -b packages/kdsr-cuda)
#   node_modules/ with jest, ts-jest, typescript and their dependencies
#   a Node binary: $KDSR_NODE, else .gpu-node/node (a copy of `which node`), else node on the PATH
# cuDNN 9 and cuBLAS 13 are taken from the machine's Python environment (PyTorch's nvidia-* wheels),
# put on LD_LIBRARY_PATH, which the addon's loader searches before the folders found at build time. Fixtures: $KDSR_FIXTURES or
# shared/fixtures beside the repository.
#
#   OUT=/some/dir tools/gpu-run.sh [tests|bench|all]     (default all; OUT defaults to ./gpu-out)
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
what="${1:-all}"
out="${OUT:-$repo/gpu-out}"
mkdir -p "$out"
log="$out/gpu-run.log"
say() { echo "gpu-run: $*" | tee -a "$log"; }

node="${KDSR_NODE:-}"
[[ -z "$node" && -x "$repo/.gpu-node/node" ]] && node="$repo/.gpu-node/node"
[[ -z "$node" ]] && node="$(command -v node || true)"
if [[ -z "$node" ]]; then say "no Node binary: set KDSR_NODE or ship .gpu-node/node"; exit 1; fi
say "node $("$node" --version) at $node"

python="$(command -v python3 || command -v python || true)"
# Folders holding libcudnn.so.9 / libcublas.so.13 in the Python environment (torch's own lib folder too).
libdirs=""
if [[ -n "$python" ]]; then
  libdirs="$("$python" - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()])
try:
    import torch
    roots.add(os.path.dirname(os.path.dirname(torch.__file__)))
    print(os.path.join(os.path.dirname(torch.__file__), "lib"))
except Exception:
    pass
for root in roots:
    for pattern in ("nvidia/*/lib/libcudnn.so.9", "nvidia/*/lib/libcublas.so.*", "nvidia/*/lib/libcublasLt.so.*"):
        for f in glob.glob(os.path.join(root, pattern)):
            print(os.path.dirname(f))
PY
)"
fi
libdirs="$(echo "$libdirs" | awk 'NF && !seen[$0]++' | paste -sd: -)"
export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

addon="$repo/packages/kdsr-cuda/build/Release/kdsr_native.node"
module="$(dirname "$addon")/kdsr_cuda_backend.so"
for f in "$addon" "$module"; do
  if [[ ! -f "$f" ]]; then say "missing $f (build the addon with the CUDA backend first)"; exit 1; fi
done
# The addon loads the module itself (it links the addon by soname, which ldd cannot resolve alone).
ldd "$module" > "$out/ldd.txt" 2>&1
loaded="$("$node" -p "const c = require('$addon').buildInfo().cuda; c && c.loaded ? 'yes' : 'no: ' + (c ? c.error : 'no CUDA module')")"
if [[ "$loaded" != "yes" ]]; then say "the CUDA module did not load: ${loaded#no: }"; exit 1; fi
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
"$node" -e "const k=require('$repo/packages/kdsr-cuda/dist'); console.log(JSON.stringify({build: k.buildInfo(), devices: k.devices()}, null, 2))" 2>&1 | tee "$out/build-info.json" | tee -a "$log"

status=0
if [[ "$what" == "tests" || "$what" == "all" ]]; then
  say "GPU tests (jest)"
  (cd packages/kdsr-cuda && KDSR_EXPECT_CUDA=1 "$node" "$repo/node_modules/jest/bin/jest.js" --ci --runInBand \
    test/cuda-backend.test.ts test/cuda-parity.test.ts) > "$out/jest.log" 2>&1
  rc=$?
  tail -40 "$out/jest.log" | tee -a "$log"
  say "jest exit code $rc"
  [[ $rc -ne 0 ]] && status=1
fi

if [[ "$what" == "bench" || "$what" == "all" ]]; then
  say "benchmark: kdsr"
  "$node" tools/bench-cuda.mjs --runs "${BENCH_RUNS:-50}" > "$out/bench-kdsr.json" 2> "$out/bench-kdsr.err" || { say "kdsr benchmark failed"; cat "$out/bench-kdsr.err" | tee -a "$log"; status=1; }
  if [[ -n "$python" ]] && "$python" -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    say "benchmark: PyTorch"
    "$python" tools/bench_torch.py --runs "${BENCH_RUNS:-50}" > "$out/bench-torch.json" 2> "$out/bench-torch.err" || { say "PyTorch benchmark failed"; status=1; }
  else
    say "no PyTorch with CUDA here: the comparison is skipped"
  fi
  "$node" - "$out" <<'JS' 2>&1 | tee "$out/bench-summary.txt" | tee -a "$log"
const fs = require('fs');
const dir = process.argv[2];
const read = (f) => (fs.existsSync(`${dir}/${f}`) && fs.statSync(`${dir}/${f}`).size ? JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')) : null);
const k = read('bench-kdsr.json'), t = read('bench-torch.json');
if (!k) { console.log('no kdsr results'); process.exit(0); }
console.log(`${k.device}; B,C,H,W = ${k.shape}; medians of ${k.runs} runs (kdsr: host clock around op + synchronize; PyTorch: CUDA events)`);
console.log(`copy bandwidth measured: kdsr ${k.bandwidth_GBps.toFixed(0)} GB/s${t ? `, PyTorch ${t.bandwidth_GBps.toFixed(0)} GB/s` : ''}`);
const rows = [['conv 3x3 64->64 fwd', 'conv3x3_fwd_ms'], ['conv 3x3 64->64 bwd', 'conv3x3_bwd_ms'], ['IDR-DDC+LeakyReLU fwd', 'ddc_leaky_fwd_ms', 'ddc_fwd_floor_ms'], ['IDR-DDC+LeakyReLU fwd+bwd', 'ddc_leaky_fwd_bwd_ms', 'ddc_fwd_bwd_floor_ms']];
for (const [name, key, floor] of rows) {
  const ratio = t ? ` torch ${t[key].toFixed(3)} ms, kdsr/torch ${(k[key] / t[key]).toFixed(2)}` : '';
  const f = floor ? `, bandwidth floor ${k[floor].toFixed(3)} ms (${(k[floor] / k[key] * 100).toFixed(0)}% of kdsr's time)` : '';
  console.log(`${name.padEnd(28)} kdsr ${k[key].toFixed(3)} ms,${ratio}${f}`);
}
JS
  say "benchmark: degradation synthesis on the GPU (@kdsr/data)"
  KDSR_DATASETS="${KDSR_DATASETS:-$repo/shared/datasets/train}" "$node" packages/kdsr-data/dist/bench/degradation-bench.js --device cuda:0 \
    > "$out/bench-data-gpu.md" 2> "$out/bench-data-gpu.err" || { say "degradation benchmark failed"; tail -5 "$out/bench-data-gpu.err" | tee -a "$log"; status=1; }
  cat "$out/bench-data-gpu.md" | tee -a "$log"
fi
say "logs in $out"
exit $status
