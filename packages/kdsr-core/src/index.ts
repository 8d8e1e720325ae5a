// @kdsr/core: autograd, the KDSR networks, losses, Adam, the two-stage trainer, checkpoints
// (ours and PyTorch's) and tiled inference, on the @kdsr/cuda engine.
export * as F from './autograd/functional';
export { backward } from './autograd/backward';
export type { BackwardOptions } from './autograd/backward';
export { noGrad, isGradEnabled, setRequiresGrad, requiresGrad } from './autograd/graph';
export type { GradNode, GradSink } from './autograd/graph';
export { gradRules } from './autograd/grads';
export type { GradRule } from './autograd/grads';

export { Parameter } from './nn/parameter';
export { Module } from './nn/module';
export type { Layer, WeightValue } from './nn/module';
export { Initializer, defaultBound } from './nn/init';
export type { InitializerOptions } from './nn/init';
export { Conv2d, Linear, LeakyReLU, PixelShuffle, Sequential, MeanShift, ResBlock, Upsampler } from './nn/layers';

export { kdsrConfig, PRESETS, DEFAULT_RGB_MEAN } from './models/config';
export type { KdsrConfig, PresetName } from './models/config';
export { IdrDdc, IdrDcrb, IdrGroup } from './models/idr';
export { Generator } from './models/generator';
export { Encoder } from './models/encoder';
export type { Idr } from './models/encoder';
export { KdsrTeacher, KdsrStudent, studentFromTeacher } from './models/kdsr';
export { UNetDiscriminatorSN, SNConv2d, DISCRIMINATOR_SLOPE } from './models/discriminator';
export type { DiscriminatorOptions } from './models/discriminator';
export { Vgg19, VGG19_WIDTHS } from './models/vgg';
export type { KdsrOutput } from './models/kdsr';

export { l1Loss, kdLoss, studentLosses, KD_TEMPERATURE, KD_WEIGHT } from './train/losses';
export type { KdOptions, StudentLosses } from './train/losses';
export { Adam, ADAM_BETAS_CLASSIC, ADAM_BETAS_GAN } from './train/adam';
export { PerceptualLoss, PERCEPTUAL_LAYERS, IMAGENET_MEAN, IMAGENET_STD } from './train/perceptual-loss';
export type { PerceptualTerms } from './train/perceptual-loss';
export type { AdamOptions } from './train/adam';
export { learningRate, validateSchedule } from './train/schedule';
export type { LrSchedule } from './train/schedule';
export { Ema } from './train/ema';
export { gradNorm } from './train/grad-norm';
export type { Batch, DataSource } from './train/data-source';
export { StageTrainer, NonFiniteError } from './train/stage-trainer';
export type { StepEvent, StepTiming, ValidationEvent, StageTrainerEvents, Validation, RunOptions } from './train/stage-trainer';
export { Trainer } from './train/trainer';
export type { TrainerOptions, ProgressEvent, StepLosses, TrainerEvents } from './train/trainer';
export { GanTrainer, KDSR_GAN_WEIGHT, KDSR_GAN_EMA_DECAY } from './train/gan-trainer';
export type { GanTrainerOptions, GanLosses, GanProgressEvent, GanTrainerEvents } from './train/gan-trainer';

export { checkpointPaths, saveWeights, loadWeights, readCheckpointInfo, CHECKPOINT_FORMAT } from './checkpoint/checkpoint';
export type { CheckpointInfo, ModelRole, SaveWeightsOptions } from './checkpoint/checkpoint';
export { exportModel } from './checkpoint/export';
export type { ExportOptions } from './checkpoint/export';
export { bundledModels, bundledModelsDir, resolveModel, DEFAULT_MODEL } from './checkpoint/bundled';
export type { BundledModel } from './checkpoint/bundled';
export { readTorchStateDict, torchStateDict } from './checkpoint/torch-import';
export { loadVgg19, VGG19_FILE, VGG19_URL } from './checkpoint/vgg-weights';
export { importTorchCheckpoint, loadKdsrModel, inferConfig } from './checkpoint/convert';
export type { HostTensor, StateDictChoice } from './checkpoint/torch-import';

export { upscale, upscaleImage, degradationRepresentation } from './inference/upscale';
export type { UpscaleOptions, TileSink } from './inference/upscale';
export { upscaleInWorker } from './inference/upscale-async';
export type { AsyncUpscaleOptions, RgbImage } from './inference/upscale-async';
export { dihedral, inverseDihedral } from './inference/image-ops';
export type { HostImage } from './inference/image-ops';
