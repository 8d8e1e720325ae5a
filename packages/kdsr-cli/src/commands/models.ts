// `kdsr models`: the bundled models, what they are, how they were trained and what they measured.
import type { BundledModel } from '@kdsr/core';
import { DEFAULT_MODEL } from '@kdsr/core';

export function formatModels(models: readonly BundledModel[]): string {
  if (models.length === 0) return 'no bundled models in this installation of @kdsr/core';
  return models
    .map((m) => {
      const c = m.info.config;
      const lines = [
        `${m.name}${m.name === DEFAULT_MODEL ? ' (default)' : ''}: ${m.info.role} x${c.scale}, n_feats ${c.nFeats}, n_blocks ${c.nBlocks}, n_resblocks ${c.nResblocks}, ${m.info.step.toLocaleString('en-US')} updates${m.info.ema ? ', EMA weights' : ''}`,
        ...(m.description ? [`  ${m.description}`] : []),
        ...Object.entries(m.training).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
        `  file: ${m.file}`,
      ];
      if (m.results.length > 0) {
        lines.push('  measured (PSNR dB / SSIM, KDSR-classic convention):');
        for (const r of m.results) lines.push(`    ${String(r.set).padEnd(6)} ${String(r.setting).padEnd(14)} ${Number(r.psnr).toFixed(2)} / ${Number(r.ssim).toFixed(4)}   bicubic ${Number(r.bicubicPsnr).toFixed(2)} / ${Number(r.bicubicSsim).toFixed(4)}`);
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
