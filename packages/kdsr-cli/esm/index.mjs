// The ESM entry point: the CommonJS build's exports (one module instance for import and require alike).
export * from '../dist/index.js';
export { default } from '../dist/index.js';
