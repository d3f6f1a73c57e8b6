/**
 * @packageDocumentation
 * araboza core: host tensors, Keras-style layers and models, losses and
 * optimizers as specs, the training loop, and the backend contract.
 */
export * from './errors.js';
export * from './random.js';
export * from './tensor.js';
export * from './shape-rules.js';
export * from './activations.js';
export * from './graph.js';
export * from './layers/batch-normalization.js';
export * from './layers/dropout.js';
export * from './layers/spatial-dropout2d.js';
export * from './backend.js';
export * from './losses.js';
export * from './metrics.js';
export * from './sample-weights.js';
export { isBatchSource } from './batch-source.js';
export type { BatchSource, DataBatch } from './batch-source.js';
export * from './optimizers.js';
export * from './schedules.js';
export { singleLayerGraph } from './eager.js';
export * from './layers/kinds.js';
export { Layer, SymbolicTensor, initialWeight, layerShapeError } from './layers/layer.js';
export type { WeightSpec, SpatialMap, BaseLayerOptions, EagerApplyOptions } from './layers/layer.js';
export { INITIALIZERS, TRUNCATED_NORMAL_STDDEV, computeFans, drawInitializer, resolveInitializer } from './initializers.js';
export type { Initializer, InitializerLike, InitializerName } from './initializers.js';
export {
  GAMMA_BETA_REGULARIZER_OPTIONS,
  KERNEL_REGULARIZER_OPTIONS,
  gammaAndBetaRegularizers,
  kernelAndBiasRegularizers,
  kernelAndBiasSpecs,
  regularizationPenalty,
  regularizerFactors,
  resolveRegularizer,
  resolveRegularizerOptions,
  withRegularizer,
} from './regularizers.js';
export type {
  GammaBetaRegularizerConfig,
  GammaBetaRegularizerOptions,
  KernelRegularizerConfig,
  KernelRegularizerOptions,
  Regularizer,
  RegularizerLike,
  RegularizerName,
} from './regularizers.js';
export * from './layers/dense.js';
export * from './layers/conv1d.js';
export * from './layers/conv2d.js';
export * from './layers/conv2d-transpose.js';
export * from './layers/max-pooling2d.js';
export * from './layers/average-pooling2d.js';
export type { Pooling2dOptions, Pooling2dConfig } from './layers/pooling2d.js';
export * from './layers/up-sampling2d.js';
export * from './layers/flatten.js';
export * from './layers/reshape.js';
export * from './layers/activation.js';
export { MergeLayer, ElementwiseMerge } from './layers/merge.js';
export type { MergeConfig, ElementwiseMergeKind } from './layers/merge.js';
export * from './layers/add.js';
export * from './layers/subtract.js';
export * from './layers/multiply.js';
export * from './layers/average.js';
export * from './layers/maximum.js';
export * from './layers/minimum.js';
export * from './layers/concatenate.js';
export * from './layers/leaky-relu.js';
export * from './layers/zero-padding2d.js';
export * from './layers/cropping2d.js';
export type { GlobalPoolingOptions, GlobalPoolingConfig } from './layers/global-pooling.js';
export * from './layers/global-average-pooling2d.js';
export * from './layers/global-max-pooling2d.js';
export * from './layers/global-average-pooling1d.js';
export * from './layers/global-max-pooling1d.js';
export type { Pooling1dOptions, Pooling1dConfig } from './layers/pooling1d.js';
export * from './layers/max-pooling1d.js';
export * from './layers/average-pooling1d.js';
export * from './layers/up-sampling1d.js';
export * from './layers/depthwise-conv2d.js';
export * from './layers/separable-conv2d.js';
export * from './layers/layer-normalization.js';
export { layerFromJSON, LAYER_CLASSES, LAYER_KINDS, MERGE_KINDS, type LayerClass } from './layers/index.js';
export * as layers from './layers/factories.js';
export { Model, model, sequential, input } from './model.js';
export type {
  InputOptions,
  CompileOptions,
  BatchOptions,
  EvaluateOptions,
  ModelOptions,
  SequentialOptions,
  ModelData,
  LossSpec,
  EvaluateLogs,
} from './model.js';
export { receptiveFields, graphReceptiveFields } from './summary.js';
export type { SummaryOptions } from './summary.js';
export type { FitOptions } from './fit-options.js';
export {
  earlyStopping,
  terminateOnNaN,
  csvLogger,
  learningRateScheduler,
  reduceLROnPlateau,
  EarlyStopping,
  TerminateOnNaN,
  CsvLogger,
  LearningRateScheduler,
  ReduceLROnPlateau,
} from './callbacks.js';
export type {
  History,
  Callbacks,
  EpochLogs,
  BatchLogs,
  FitParams,
  EarlyStoppingOptions,
  CsvLoggerOptions,
  ReduceLROnPlateauOptions,
  LogsLearningRate,
} from './callbacks.js';
export { saveModel, loadModel, writeFileAtomic, MODEL_FORMAT, MODEL_FORMAT_VERSION } from './io.js';
export type { LoadModelOptions } from './io.js';
export { saveModelToBytes, saveModelToBlobs, loadModelFromBytes } from './bytes-io.js';
export type { ModelBytes, ModelSource } from './bytes-io.js';
export { checkFileTarget, checkFolderTarget, statRegularFile, onInterrupt, writeFilesAtomic } from './files.js';
export { mnistAutoencoder, denoisingUnet, smallResidualNetwork } from './reference-models.js';
export type { MnistAutoencoderOptions, DenoisingUnetOptions, SmallResidualNetworkOptions } from './reference-models.js';
export { writeCheckpoint, readCheckpoint } from './checkpoint.js';
export type { CheckpointOptions, CheckpointRun, TrainingPosition, LoadedCheckpoint } from './checkpoint.js';
