// Every op wrapper; names are the camelCase of op-table.json's names.
export { runOp, runOp1 } from './run';
export * from './leaky-relu';
export * from './conv2d';
export * from './linear';
export * from './dyn-dwconv';
export * from './elementwise';
export * from './channels';
export * from './pixel-shuffle';
export * from './global-avg-pool';
export * from './channel-affine';
export * from './losses';
export * from './softmax';
export * from './reduce';
export * from './clamp';
export * from './fill';
export * from './random';
export * from './adam';
