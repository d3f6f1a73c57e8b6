import { describeConformance } from '@araboza/conformance';
import { tfjsBackend } from '@araboza/tfjs';
describeConformance(() => tfjsBackend({ engine: 'cpu' }), { name: 'tfjs-cpu', training: 'short' });
