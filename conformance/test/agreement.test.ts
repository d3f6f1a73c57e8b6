import { describeAgreement } from '@araboza/conformance';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
import { tfjsBackend } from '@araboza/tfjs';

// onnxruntime-cpu is the reference; each other backend is compared with it.
describeAgreement({
  'onnxruntime-cpu': () => onnxruntimeBackend({ device: 'cpu' }),
  'tfjs-wasm': () => tfjsBackend({ engine: 'wasm' }),
  'tfjs-cpu': () => tfjsBackend({ engine: 'cpu' }),
});
