// Every op wrapper; names are the camelCase of op-table.json's names.
export { runOp, runOp1 } from './run';
export * from './leaky-relu';
export * from './conv2d';
export * from './linear';
export * from './dyn-dwconv';
