// Turning one dataset item into a training sample: read the encoded bytes, decode, crop the patch
// (aligned LR/HR crops for paired data), augment. Runs in decoding workers and, for scans, anywhere.
import type { RootDatabase } from 'lmdb';
import { cropImage, HostImage } from '../image/host-image';
import { decodeRaw, RawImage, rawToFloat } from '../image/io';
import { Dataset, itemName, readFolderItem } from './dataset';
import { openLmdbReadOnly, readLmdbItem } from './lmdb-dataset';
import { augment, cropOrigin, padBottomRight, PatchSpec } from './patch';

export type SampleResult =
  | { status: 'ok'; hr: HostImage; lr: HostImage | null; name: string }
  | { status: 'too-small'; name: string; height: number; width: number }
  | { status: 'error'; name: string; message: string };

/** Reads items of one dataset; holds the LMDB handle open while in use. */
export class SampleDecoder {
  private db: RootDatabase<Buffer, string> | null = null;

  constructor(readonly dataset: Dataset) {
    if (dataset.kind === 'lmdb') this.db = openLmdbReadOnly(dataset.path);
  }

  private async decode(i: number, which: 'hr' | 'lr'): Promise<RawImage> {
    const d = this.dataset;
    const { bytes, name } = d.kind === 'lmdb' ? readLmdbItem(this.db!, d, i) : await readFolderItem(d, i, which);
    return decodeRaw(bytes, name);
  }

  /** Item i: the whole image(s) when patch is null, else the augmented crop. Never throws. */
  async sample(i: number, patch: PatchSpec | null): Promise<SampleResult> {
    const d = this.dataset;
    let name = itemName(d, i);
    try {
      const hrRaw = await this.decode(i, 'hr');
      name = hrRaw.info.source;
      const lrRaw = d.kind === 'paired' ? await this.decode(i, 'lr') : null;
      if (lrRaw && d.kind === 'paired' && (lrRaw.height * d.scale !== hrRaw.height || lrRaw.width * d.scale !== hrRaw.width))
        return {
          status: 'error',
          name,
          message: `LR ${lrRaw.info.source} is ${lrRaw.height}x${lrRaw.width}, expected HR ${hrRaw.height}x${hrRaw.width} / ${d.scale}`,
        };
      if (!patch) return { status: 'ok', name, hr: rawToFloat(hrRaw).rgb, lr: lrRaw ? rawToFloat(lrRaw).rgb : null };

      const hrPatch = patch.lrPatch * patch.scale;
      if (hrRaw.height < hrPatch || hrRaw.width < hrPatch) {
        if (!patch.padSmall || lrRaw) return { status: 'too-small', name, height: hrRaw.height, width: hrRaw.width };
        const padded = padBottomRight(rawToFloat(hrRaw).rgb, hrPatch, hrPatch);
        const top = cropOrigin(padded.height, hrPatch, patch.choice.top);
        const left = cropOrigin(padded.width, hrPatch, patch.choice.left);
        return { status: 'ok', name, hr: augment(cropImage(padded, top, left, hrPatch, hrPatch), patch.choice), lr: null };
      }
      let hr: HostImage;
      let lr: HostImage | null = null;
      if (lrRaw) {
        // Paired: the crop is drawn on the LR grid so both crops stay aligned.
        const top = cropOrigin(lrRaw.height, patch.lrPatch, patch.choice.top);
        const left = cropOrigin(lrRaw.width, patch.lrPatch, patch.choice.left);
        lr = rawToFloat(lrRaw, { top, left, height: patch.lrPatch, width: patch.lrPatch }).rgb;
        hr = rawToFloat(hrRaw, { top: top * patch.scale, left: left * patch.scale, height: hrPatch, width: hrPatch }).rgb;
      } else {
        const top = cropOrigin(hrRaw.height, hrPatch, patch.choice.top);
        const left = cropOrigin(hrRaw.width, hrPatch, patch.choice.left);
        hr = rawToFloat(hrRaw, { top, left, height: hrPatch, width: hrPatch }).rgb;
      }
      return { status: 'ok', name, hr: augment(hr, patch.choice), lr: lr ? augment(lr, patch.choice) : null };
    } catch (error) {
      return { status: 'error', name, message: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.db) await this.db.close();
    this.db = null;
  }
}
