import { describeConformance } from '@araboza/conformance';
import { tfjsBackend } from '@araboza/tfjs';
describeConformance(() => tfjsBackend({ engine: 'wasm' }), { name: 'tfjs-wasm' });
