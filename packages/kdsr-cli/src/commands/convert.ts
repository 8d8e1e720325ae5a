// `kdsr convert`: an official PyTorch checkpoint (.pt / .pth) to a kdsr safetensors file (@kdsr/core).
import * as fs from 'fs';
import { importTorchCheckpoint } from '@kdsr/core';

export function convertCheckpoint(input: string, output: string): string {
  if (!fs.existsSync(input)) throw new Error(`${input}: no such file`);
  if (!output.endsWith('.safetensors')) throw new Error(`${output}: the output must be a .safetensors file`);
  const info = importTorchCheckpoint(input, output);
  const { nFeats, nBlocks, nResblocks, scale } = info.config;
  return `${input}${info.entry ? ` ('${info.entry}')` : ''} -> ${output}: ${info.role} ${info.preset} x${scale} (n_feats ${nFeats}, n_blocks ${nBlocks}, n_resblocks ${nResblocks})`;
}
