// `kdsr eval --report`: one self-contained HTML page (every picture embedded as a PNG data URI)
// with the score tables and, for each test image of one setting, the same crop of the LR input,
// KDSR-bicubic upsampling, the SR output and the HR ground truth side by side.
import { cropImage, encodeImage, HostImage } from '@kdsr/data';
import type { EvalReport, ScoredImage } from './eval';

export interface ReportImages {
  name: string;
  lr: HostImage;
  bicubic: HostImage;
  sr: HostImage;
  hr: HostImage;
  scores: ScoredImage;
}

/** HR crop side in pixels (smaller images are shown whole). */
const CROP = 192;
/** Display width of each crop on the page. */
const SHOWN = 256;

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The top-left corner (a multiple of `scale`) of the size×size window with the most HR detail (gradient energy). */
function detailedWindow(hr: HostImage, size: number, scale: number): { top: number; left: number } {
  const { height, width, data } = hr;
  const plane = height * width;
  const energy = (top: number, left: number) => {
    let e = 0;
    for (let y = top; y < top + size - 1; y += 2)
      for (let x = left; x < left + size - 1; x += 2)
        for (let c = 0; c < 3; c++) {
          const v = data[c * plane + y * width + x];
          e += Math.abs(data[c * plane + y * width + x + 1] - v) + Math.abs(data[c * plane + (y + 1) * width + x] - v);
        }
    return e;
  };
  const stride = Math.max(scale, Math.floor(size / 4 / scale) * scale);
  let best = { top: 0, left: 0, e: -1 };
  for (let top = 0; top + size <= height; top += stride)
    for (let left = 0; left + size <= width; left += stride) {
      const e = energy(top, left);
      if (e > best.e) best = { top, left, e };
    }
  return best;
}

async function pngDataUri(image: HostImage): Promise<string> {
  return `data:image/png;base64,${(await encodeImage(image, 'png')).toString('base64')}`;
}

function scoreTable(report: EvalReport): string {
  const cells = (m: { psnr: number; ssim: number; psnrBasicsr: number; ssimBasicsr: number }) =>
    `<td>${m.psnr.toFixed(2)}</td><td>${m.ssim.toFixed(4)}</td><td>${m.psnrBasicsr.toFixed(2)}</td><td>${m.ssimBasicsr.toFixed(4)}</td>`;
  const rows = report.settings.map((s) => `<tr><th>${escape(s.name)}</th>${cells(s.mean)}${cells(s.bicubic)}</tr>`);
  if (report.settings.length > 1) rows.push(`<tr class="mean"><th>mean</th>${cells(report.mean)}${cells(report.bicubic)}</tr>`);
  return `<table class="scores">
<thead><tr><th rowspan="2">setting</th><th colspan="4">SR (${escape(report.model)})</th><th colspan="4">bicubic</th></tr>
<tr><th>PSNR</th><th>SSIM</th><th>PSNR (BasicSR)</th><th>SSIM (BasicSR)</th><th>PSNR</th><th>SSIM</th><th>PSNR (BasicSR)</th><th>SSIM (BasicSR)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

async function imageRow(item: ReportImages, scale: number): Promise<string> {
  const size = Math.floor(Math.min(CROP, item.hr.height, item.hr.width) / scale) * scale;
  const { top, left } = detailedWindow(item.hr, size, scale);
  const hrCrop = (image: HostImage) => cropImage(image, top, left, size, size);
  const lrCrop = cropImage(item.lr, top / scale, left / scale, size / scale, size / scale);
  const figure = async (image: HostImage, caption: string, cls: string) =>
    `<figure class="${cls}"><img src="${await pngDataUri(image)}" width="${SHOWN}" height="${SHOWN}" alt="${escape(`${item.name}: ${caption}`)}"><figcaption>${escape(caption)}</figcaption></figure>`;
  const s = item.scores;
  return `<section class="image" data-name="${escape(item.name)}">
<h3>${escape(item.name)} <small>(${item.hr.width}×${item.hr.height}, crop ${size}×${size} at ${left},${top})</small></h3>
<div class="row">
${await figure(lrCrop, `LR input (${size / scale}×${size / scale}, nearest)`, 'lr')}
${await figure(hrCrop(item.bicubic), `bicubic: ${s.bicubic.psnr.toFixed(2)} dB / ${s.bicubic.ssim.toFixed(4)}`, 'bicubic')}
${await figure(hrCrop(item.sr), `SR: ${s.psnr.toFixed(2)} dB / ${s.ssim.toFixed(4)}`, 'sr')}
${await figure(hrCrop(item.hr), 'HR (ground truth)', 'hr')}
</div></section>`;
}

export async function renderEvalReportHtml(report: EvalReport, shownSetting: string, images: readonly ReportImages[]): Promise<string> {
  const rows: string[] = [];
  for (const item of images) rows.push(await imageRow(item, report.scale));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>kdsr eval: ${escape(report.model)} on ${escape(report.hr)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
table.scores { border-collapse: collapse; margin: 12px 0 24px; }
table.scores td, table.scores th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
table.scores tr.mean { font-weight: bold; background: #f3f3f3; }
.row { display: flex; gap: 12px; flex-wrap: wrap; }
figure { margin: 0; }
figure img { display: block; border: 1px solid #ccc; }
figure.lr img { image-rendering: pixelated; }
figcaption { font-size: 13px; text-align: center; padding-top: 4px; }
</style></head><body>
<h1>kdsr eval</h1>
<p>Model <b>${escape(report.model)}</b> (${escape(report.role)}, ×${report.scale}) on <b>${escape(report.hr)}</b>,
${report.settings[0].images.length} images, LR seed ${report.seed}. PSNR/SSIM in the KDSR-classic convention (Y, ${report.scale} pixels shaved)
and BasicSR's (Y, ${report.scale} pixels cropped); bicubic is KDSR-bicubic upsampling of the same LR image.</p>
${scoreTable(report)}
${report.failed.length > 0 ? `<p class="failed">Left out of the means (${report.failed.length}): ${report.failed.map((f) => `${escape(f.file)} (${escape(f.reason)})`).join('; ')}</p>\n` : ''}<h2>Images under ${escape(shownSetting)}</h2>
${rows.join('\n')}
</body></html>
`;
}
