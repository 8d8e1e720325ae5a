// Network sizes. Presets follow the paper's models: KDSR-M and KDSR-L for the classic degradations
// and the KDSR-GAN generator for real-world images; `custom` takes any sizes.
export interface KdsrConfig {
  /** C: feature channels. */
  nFeats: number;
  /** IDR-DCRB blocks in the generator. */
  nBlocks: number;
  /** Residual blocks in the KD-IDE encoder. */
  nResblocks: number;
  /** Upscaling factor: 2, 3, 4 (or 8). */
  scale: number;
  /** Per-channel RGB mean subtracted before and added after the generator. */
  rgbMean: readonly [number, number, number];
}

export type PresetName = 'M' | 'L' | 'GAN';

export const DEFAULT_RGB_MEAN: readonly [number, number, number] = [0.4488, 0.4371, 0.404];

export const PRESETS: Readonly<Record<PresetName, Omit<KdsrConfig, 'scale' | 'rgbMean'>>> = {
  M: { nFeats: 64, nBlocks: 53, nResblocks: 9 },
  L: { nFeats: 128, nBlocks: 28, nResblocks: 5 },
  GAN: { nFeats: 128, nBlocks: 42, nResblocks: 6 },
};

/** A preset at a scale, or a custom configuration ('custom' needs every size). */
export function kdsrConfig(preset: PresetName | 'custom', options: Partial<KdsrConfig> & { scale: number }): KdsrConfig {
  const sizes = preset === 'custom' ? options : { ...PRESETS[preset], ...options };
  for (const key of ['nFeats', 'nBlocks', 'nResblocks'] as const) {
    const v = sizes[key];
    if (v === undefined || !Number.isInteger(v) || v < (key === 'nFeats' ? 1 : 0)) throw new Error(`kdsrConfig: ${key} must be a ${key === 'nFeats' ? 'positive' : 'non-negative'} integer, got ${String(v)}`);
  }
  if (![2, 3, 4, 8].includes(options.scale)) throw new Error(`kdsrConfig: scale must be 2, 3, 4 or 8, got ${options.scale}`);
  return { nFeats: sizes.nFeats!, nBlocks: sizes.nBlocks!, nResblocks: sizes.nResblocks!, scale: options.scale, rgbMean: options.rgbMean ?? DEFAULT_RGB_MEAN };
}
