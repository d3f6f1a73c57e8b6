/**
 * @packageDocumentation
 * araboza backend on ONNX Runtime. onnxruntime-node has no autodiff, so this
 * package generates the ONNX models itself: inference, and a train step
 * holding forward, loss, backward and the optimizer update in one graph.
 */
export { onnxruntimeBackend, createBackend, type OnnxruntimeBackend, type OnnxruntimeBackendOptions } from './backend.js';
export {
  DEVICES,
  CUDA_INSTALL_HINT,
  WEBGPU_INSTALL_HINT,
  SWIFTSHADER_ICD,
  useSwiftShader,
  nchwcBlockSize,
  type DeviceName,
  type ResolvedDevice,
} from './device.js';
export { exportOnnx, type ExportableModel } from './export.js';
export { GeneratedModelError } from './model-check.js';
export { FORWARD_LOWERINGS, GRADIENT_RULES } from './lowerings/index.js';
export {
  buildInferenceModel,
  buildTrainStepModel,
  buildGradientsModel,
  buildEvalModel,
  inferenceOutputNames,
  weightEntries,
  type WeightEntry,
  type InferenceModelOptions,
  type TrainingModelOptions,
} from './model-gen.js';
export { DEFAULT_RUN_BYTES } from './compiled-model.js';
export { OPSET_VERSION } from './onnx-graph.js';
