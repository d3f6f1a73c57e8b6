import { describeConformance } from '@araboza/conformance';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
describeConformance(() => onnxruntimeBackend({ device: 'cpu' }), { name: 'onnxruntime-cpu' });
