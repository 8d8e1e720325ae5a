// `kdsr export`: a training checkpoint's weights for release (see exportModel in @kdsr/core).
import * as fs from 'fs';
import { exportModel } from '@kdsr/core';

export function exportCommand(checkpoint: string, output: string, options: { ema: boolean; float32: boolean; meta?: string[] }): string {
  const metadata: Record<string, string> = {};
  for (const entry of options.meta ?? []) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`--meta ${entry}: expected key=value or key=@file`);
    const value = entry.slice(at + 1);
    metadata[entry.slice(0, at)] = value.startsWith('@') ? fs.readFileSync(value.slice(1), 'utf8').trim() : value;
  }
  const info = exportModel(checkpoint, output, { ema: options.ema, storeAs: options.float32 ? undefined : 'float16', metadata });
  const size = fs.statSync(output).size;
  return `${output}: ${info.role} x${info.config.scale} from update ${info.step}${info.ema ? ' (EMA)' : ''}, ${options.float32 ? 'float32' : 'float16'}, ${(size / 1e6).toFixed(2)} MB`;
}
