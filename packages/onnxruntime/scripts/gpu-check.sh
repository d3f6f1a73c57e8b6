#!/usr/bin/env bash
# GPU check of @araboza/onnxruntime: on a Linux machine with an NVIDIA GPU and
# onnxruntime-node's CUDA provider installed (see README.md, "Enabling CUDA"),
# runs this package's test suite with device 'cuda', the conformance suite on
# device 'cuda' (short training), and the autoencoder step/inference timing on
# 'cuda' and 'cpu'. Short and self-contained; prints what ran where.
# Usage (from anywhere): packages/onnxruntime/scripts/gpu-check.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

echo "== machine"
uname -srm
node --version
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  echo "nvidia-smi not found: this script needs an NVIDIA GPU and driver" >&2
  exit 1
fi

echo "== build"
(cd "$root" && pnpm --filter @araboza/core build >/dev/null && pnpm --filter @araboza/onnxruntime build >/dev/null)

echo "== CUDA provider of onnxruntime-node"
lib="$(node --input-type=module -e "import('./dist/device.js').then(m => console.log(m.cudaProviderLibraryPath() ?? ''))")"
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
  echo "missing: ${lib:-no CUDA build for this platform}" >&2
  echo "install it: allow onnxruntime-node's build (allowBuilds: {onnxruntime-node: true} in pnpm-workspace.yaml)," >&2
  echo "then: ONNXRUNTIME_NODE_INSTALL=cuda12 pnpm install --force   (npm: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)" >&2
  exit 1
fi
echo "found $lib"
node --input-type=module -e "
import { onnxruntimeBackend } from './dist/index.js';
import { mnistAutoencoder } from '@araboza/core';
const b = onnxruntimeBackend({ device: 'cuda' });
const m = mnistAutoencoder();
const c = await b.compile(m.graph);
console.log('device check: compiled the autoencoder on', b.name);
c.dispose();
"

echo "== package tests on device 'cuda' (ARABOZA_ORT_DEVICE=cuda)"
ARABOZA_ORT_DEVICE=cuda npx vitest run

if [ -f "$root/conformance/dist/cli.js" ] || (cd "$root" && pnpm --filter @araboza/conformance build >/dev/null 2>&1); then
  echo "== conformance suite on device 'cuda' (short training)"
  node "$root/conformance/dist/cli.js" --backend @araboza/onnxruntime --options '{"device":"cuda"}' --training short -q
else
  echo "== conformance suite: not built here, skipped"
fi

echo "== autoencoder timing (batch 256 train step, 10,000-image inference)"
node scripts/step-time.mjs --device cuda --steps 40
node scripts/step-time.mjs --device cpu --threads 2 --steps 20
echo "== done: every section above names the device it ran on"
