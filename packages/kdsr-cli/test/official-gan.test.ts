// The official KDSR-GAN release files (KDSR-GANV2 and the others on the KDSR repository's Google
// Drive) are BasicSR checkpoints of BlindSR_ST with 128 features, 42 IDR-DCRB blocks and 6 encoder
// res-blocks: {'params': ..., 'params_ema': ...}. A file of exactly that layout — its keys and
// shapes written out here from the official code (KDSR-GAN/kdsrgan/archs/ST_arch.py), random
// weights, written by the tests' torch.save writer — converts with `kdsr convert` (the EMA weights,
// bit for bit, recognised as the GAN preset) and upscales a small image with `kdsr upscale
// --model`, from the .pth and from the converted file alike.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { readCheckpointInfo } from '@kdsr/core';
import { Float32Tensor, torchSave } from '../../kdsr-core/test/torch-save';
import { kdsrOk, ONE_THREAD, scratchDir, tensorBytes, writeTestPng } from './helpers';

const C = 128;
const BLOCKS = 42;
const ENCODER_RES = 6;
const RGB_MEAN = [0.4488, 0.4371, 0.404];

/** BlindSR_ST(n_feats=128, n_encoder_res=6, scale=4, n_sr_blocks=42): every key and shape of its state_dict, in order. */
function officialStudentLayout(): Array<[string, number[]]> {
  const conv = (name: string, out: number, inp: number, k = 3): Array<[string, number[]]> => [[`${name}.weight`, [out, inp, k, k]], [`${name}.bias`, [out]]];
  const linear = (name: string, out: number, inp: number): Array<[string, number[]]> => [[`${name}.weight`, [out, inp]], [`${name}.bias`, [out]]];
  const layout: Array<[string, number[]]> = [...conv('G.sub_mean', 3, 3, 1), ...conv('G.add_mean', 3, 3, 1), ...conv('G.head.0', C, 3)];
  for (let i = 0; i < BLOCKS; i++)
    layout.push([`G.body.0.body.${i}.da_conv1.kernel.0.weight`, [C, C]], [`G.body.0.body.${i}.da_conv1.kernel.2.weight`, [9 * C, C]], ...conv(`G.body.0.body.${i}.conv1`, C, C));
  layout.push(...conv('G.body.1', C, C), ...conv('G.tail.0.0', 4 * C, C), ...conv('G.tail.0.2', 4 * C, C), ...conv('G.tail.1', 3, C));
  layout.push(...conv('E_st.E.0', C, 3));
  for (let r = 0; r < ENCODER_RES; r++) layout.push(...conv(`E_st.E.${2 + r}.body.0`, C, C), ...conv(`E_st.E.${2 + r}.body.2`, C, C));
  const k = 2 + ENCODER_RES;
  layout.push(...conv(`E_st.E.${k}`, 2 * C, C), ...conv(`E_st.E.${k + 2}`, 2 * C, 2 * C), ...conv(`E_st.E.${k + 4}`, 4 * C, 2 * C));
  layout.push(...linear('E_st.mlp.0', 4 * C, 4 * C), ...linear('E_st.mlp.2', 4 * C, 4 * C), ...linear('E_st.compress.0', C, 4 * C));
  return layout;
}

/** Weights as PyTorch initialises them (uniform in ±1/sqrt(fan_in)), from xorshift32; the mean shifts as common.MeanShift sets them. */
function weights(layout: Array<[string, number[]]>, seed: number): Map<string, Float32Tensor> {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const fanIn = new Map(layout.filter(([k]) => k.endsWith('.weight')).map(([k, shape]) => [k.slice(0, -'.weight'.length), shape.slice(1).reduce((a, b) => a * b, 1)]));
  return new Map(
    layout.map(([key, shape]): [string, Float32Tensor] => {
      const n = shape.reduce((a, b) => a * b, 1);
      const layer = key.slice(0, key.lastIndexOf('.'));
      if (layer === 'G.sub_mean' || layer === 'G.add_mean') {
        const sign = layer === 'G.sub_mean' ? -1 : 1;
        const data = key.endsWith('.bias') ? Float32Array.from(RGB_MEAN, (m) => sign * m) : Float32Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 1 : 0));
        return [key, { shape, data }];
      }
      const bound = 1 / Math.sqrt(fanIn.get(layer)!);
      return [key, { shape, data: Float32Array.from({ length: n }, () => (2 * uniform() - 1) * bound) }];
    }),
  );
}

test('an official KDSR-GAN release file (BasicSR params_ema, 128 features, 42 blocks, 6 encoder blocks) converts and upscales', async () => {
  const { dir, cleanup } = scratchDir();
  const at = (...parts: string[]) => path.join(dir, ...parts);
  try {
    const layout = officialStudentLayout();
    const ema = weights(layout, 1);
    fs.writeFileSync(at('KDSR-GANV2.pth'), torchSave({ params: weights(layout, 2), params_ema: ema }));

    const converted = kdsrOk(['convert', 'KDSR-GANV2.pth', 'kdsr-ganv2.safetensors'], dir);
    expect(converted).toBe("KDSR-GANV2.pth ('params_ema') -> kdsr-ganv2.safetensors: student GAN x4 (n_feats 128, n_blocks 42, n_resblocks 6)\n");
    expect(readCheckpointInfo(at('kdsr-ganv2.safetensors'))).toMatchObject({ role: 'student', preset: 'GAN', config: { nFeats: 128, nBlocks: 42, nResblocks: 6, scale: 4 } });
    const saved = tensorBytes(at('kdsr-ganv2.safetensors'));
    expect([...saved.keys()].sort()).toEqual(layout.map(([k]) => k).sort());
    for (const [key, t] of ema) expect({ key, exact: saved.get(key)!.equals(Buffer.from(t.data.buffer)) }).toEqual({ key, exact: true });

    await writeTestPng(at('photo.png'), 20, 16, 3);
    for (const model of ['KDSR-GANV2.pth', 'kdsr-ganv2.safetensors']) {
      const out = kdsrOk(['upscale', 'photo.png', '--model', model, '--out', `${model}.png`], dir, { env: ONE_THREAD });
      expect(out).toContain(`-> ${model}.png (80x64)`);
    }
    const pixels = await Promise.all(['KDSR-GANV2.pth', 'kdsr-ganv2.safetensors'].map((m) => sharp(at(`${m}.png`)).raw().toBuffer()));
    expect(pixels[0].equals(pixels[1])).toBe(true);
    expect(new Set(pixels[0]).size).toBeGreaterThan(1);
  } finally {
    cleanup();
  }
});
