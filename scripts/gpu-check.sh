#!/usr/bin/env bash
# One table of what this machine's GPU execution providers do with Docent (scripts/gpuCheck.ts):
# nvidia-smi/vulkaninfo, which providers load and where onnxruntime places the nodes, decode step
# time at batch 1 and 8 and context 1k/4k per provider (WebGPU with the KV cache resident),
# batched == solo on each device, embedding throughput at batch 32/128, bench:generation --quick.
#
#   bash scripts/gpu-check.sh            # on a GPU machine: under ten minutes
#   bash scripts/gpu-check.sh --dry-run  # CPU rows only on small models, under a minute (CI runs this)
#
# Without a GPU provider that loads it runs as a dry run by itself and says why the GPU rows are
# skipped. Exit code 1 when a check that ran failed (batched != solo, a benchmark error).
set -euo pipefail
cd "$(dirname "$0")/.."
exec nice -n 10 node --import tsx scripts/gpuCheck.ts "$@"
