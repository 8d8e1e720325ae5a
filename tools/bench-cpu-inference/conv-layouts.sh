#!/bin/sh
# Builds and runs conv-layouts.cc against the system oneDNN (and XNNPACK when libxnnpack-dev and
# libpthreadpool-dev are installed). Arguments: timed runs per cell (default 9). Environment:
# OMP_NUM_THREADS (default 2), ONEDNN_MAX_CPU_ISA (e.g. AVX2 to emulate an AVX2 machine).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${TMPDIR:-/tmp}/kdsr-conv-layouts
xnn=""
if [ -f /usr/include/xnnpack.h ] && [ -f /usr/include/pthreadpool.h ]; then xnn="-DWITH_XNNPACK -lXNNPACK -lpthreadpool"; fi
# shellcheck disable=SC2086
g++ -O2 -std=c++17 -fopenmp "$here/conv-layouts.cc" -o "$bin" -ldnnl $xnn
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$bin" "${1:-9}"
