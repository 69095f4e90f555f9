#!/usr/bin/env bash
# Issue 22's GPU checks in one go, for a machine with a CUDA GPU:
#   1. bench_gpu.py --solvers: CA1 forward, vmap over 1,000 parameter sets and gradient,
#      dendrax against Jaxley 0.14 in float32 and float64, plus dendrax's solver table;
#   2. the level-parallel and branched solver tests and the Jaxley comparisons (tests/compat)
#      run on the GPU (the test suite's conftest picks the CPU unless JAX_PLATFORMS says else).
# Usage: bench/gpu_checks.sh [OUT_DIR]   (default: gpu_checks_out)
# Needs: jax with CUDA, jaxley 0.14 (for the comparisons), pytest and pytest-xdist, and the
# shared morphologies ($DENDRAX_SWC_DIR, default ../shared/data/swc beside the repository).
# Knobs: PYTHON (python3), DEADLINE (s for bench_gpu.py, 320), TEST_TIMEOUT (s, 170), WORKERS (8).
set -uo pipefail
out=$(realpath -m "${1:-gpu_checks_out}")
python=${PYTHON:-python3}
mkdir -p "$out"
cd "$(dirname "$0")/.." || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
(cd bench && "$python" bench_gpu.py --solvers --out "$out" --deadline "${DEADLINE:-320}") 2>&1 |
  tee "$out/bench.log"
# Several test processes share the GPU: no process may take most of its memory up front.
JAX_PLATFORMS=cuda XLA_PYTHON_CLIENT_PREALLOCATE=false timeout "${TEST_TIMEOUT:-170}" \
  "$python" -m pytest -q -p no:cacheprovider -n "${WORKERS:-8}" \
  tests/solvers/test_level_parallel.py tests/solvers/test_branched_solver.py tests/compat 2>&1 |
  tee "$out/pytest.log" | tail -40
