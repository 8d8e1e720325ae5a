// Types of the ESM entry point (esm/index.mjs): those of the CommonJS build it re-exports.
import * as cjs from '../dist/index.js';
export * from '../dist/index.js';
export default cjs;
