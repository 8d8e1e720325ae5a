export { createProgram } from './program';
export { collectInfo, formatInfo } from './commands/info';
export type { InfoReport } from './commands/info';
