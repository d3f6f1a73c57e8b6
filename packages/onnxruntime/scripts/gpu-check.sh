#!/usr/bin/env bash
# GPU check of @araboza/onnxruntime, for a machine with a real GPU: reports which
# GPU providers load (webgpu: built into onnxruntime-node, any vendor's GPU through
# Vulkan/Metal/Direct3D 12; cuda: only where its provider was installed, see
# README.md, "Enabling CUDA"), then on each one that loads runs the conformance
# suite (short training, no @large), one autoencoder epoch (the example CLI), and
# the autoencoder step/inference timing (bench/dist/tools/onnxruntime-step-time.js)
# against the CPU provider.
# Short and self-contained; prints what ran where. WebGPU uses the machine's own
# GPU (ARABOZA_WEBGPU_ADAPTER=system), not SwiftShader.
# Usage (from anywhere): packages/onnxruntime/scripts/gpu-check.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
export ARABOZA_WEBGPU_ADAPTER=system

echo "== machine"
uname -srm
node --version
lscpu 2>/dev/null | grep -m1 'Model name' || true
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi
if command -v vulkaninfo >/dev/null 2>&1; then
  vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName' || true
fi

echo "== build"
(cd "$root" && npx --yes pnpm@12.4.2 --filter @araboza/examples... --filter @araboza/conformance... --filter @araboza/bench... build >/dev/null)

echo "== which GPU providers load"
devices=()
for device in webgpu cuda; do
  if node --input-type=module -e "
import { onnxruntimeBackend } from './dist/index.js';
import { mnistAutoencoder } from '@araboza/core';
const b = onnxruntimeBackend({ device: '$device' });
try {
  (await b.compile(mnistAutoencoder().graph)).dispose();
  console.log('$device: loads (' + b.name + ')');
} catch (e) {
  console.log('$device: does not load: ' + e.message);
  process.exit(1);
}
"; then devices+=("$device"); fi
done
if [ ${#devices[@]} -eq 0 ]; then
  echo "no GPU provider loads here: nothing to check (see the messages above for the fix)" >&2
  exit 1
fi

for device in "${devices[@]}"; do
  echo "== conformance suite on device '$device' (short training, no @large)"
  node "$root/conformance/dist/cli.js" --backend @araboza/onnxruntime --options "{\"device\":\"$device\"}" --training short --exclude @large -q || echo "conformance on $device: FAILED (see above)"
  echo "== one autoencoder epoch on '$device' and on 'cpu' (example CLI, full MNIST)"
  for d in "$device" cpu; do
    node "$root/examples/dist/cli.js" autoencoder --backend onnxruntime --device "$d" --epochs 1 --json \
      | node -e "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{const j=JSON.parse(s.slice(s.lastIndexOf('\n{')+1));console.log('$d: loss',j.history.loss[0],'val_loss',j.history.valLoss[0],'epoch',j.secondsPerEpoch.toFixed(1),'s')})"
  done
  echo "== autoencoder timing (batch 256 train step, 10,000-image inference) on '$device' and 'cpu'"
  node "$root/bench/dist/tools/onnxruntime-step-time.js" --device "$device" --steps 40
  node "$root/bench/dist/tools/onnxruntime-step-time.js" --device cpu --threads 2 --steps 20
done
echo "== done: every section above names the device it ran on"
