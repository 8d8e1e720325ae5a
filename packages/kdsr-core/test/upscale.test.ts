// Inference: tiled equals untiled (M preset, random weights) within one 8-bit level everywhere, the
// degradation representation from tiles equals the whole-image one, the dihedral transforms, the
// ×8 self-ensemble's symmetry, progress and abort.
import { conv2d, dispose, memory, resetPeakMemory, Tensor, tidy } from '@kdsr/cuda';
import { noGrad } from '../src/autograd/graph';
import { kdsrConfig } from '../src/models/config';
import { KdsrStudent } from '../src/models/kdsr';
import { dihedral, HostImage, inverseDihedral } from '../src/inference/image-ops';
import { degradationRepresentation, upscale, upscaleImage } from '../src/inference/upscale';
import { randomArray, randomTensor, relativeError } from './helpers';

const image = (h: number, w: number, seed: number) => Tensor.fromArray(Float32Array.from(randomArray(3 * h * w, seed, 0, 1)), [1, 3, h, w]);

test('M preset: tiled inference equals untiled within 1/255 everywhere; D from tiles equals whole-image D', () => {
  const student = new KdsrStudent(kdsrConfig('M', { scale: 4 }), { seed: 7 });
  const lr = image(48, 40, 3);
  const progress: Array<[number, number]> = [];
  const whole = upscale(student, lr, { tile: Infinity });
  const tiled = upscale(student, lr, { tile: 24, overlap: 16, onProgress: (done, total) => progress.push([done, total]) });
  expect(tiled.shape).toEqual([1, 3, 192, 160]);
  expect(progress).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
  const a = whole.toArray();
  const b = tiled.toArray();
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  expect(maxDiff).toBeLessThan(1 / 255);
  const host: HostImage = { channels: 3, height: 48, width: 40, data: lr.toFloat32Array() };
  const like = { device: 'cpu', dtype: 'float32' as const };
  noGrad(() =>
    tidy(() => {
      const fromTiles = degradationRepresentation(student, host, 24, like).toArray();
      const direct = student.E_st.forward(lr).idr.toArray();
      expect(relativeError(fromTiles, direct)).toBeLessThan(1e-5);
    }),
  );
  student.dispose();
});

test('upscaleImage hands out each tile\'s own output region once, never the whole image, and they make up upscale()\'s output', () => {
  const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale: 2 }), { seed: 12 });
  const lr = image(9, 7, 8);
  const host: HostImage = { channels: 3, height: 9, width: 7, data: lr.toFloat32Array() };
  const whole = upscale(student, lr, { tile: 4, overlap: 2 }).toFloat32Array();
  const covered = new Uint8Array(18 * 14);
  upscaleImage(
    student,
    host,
    (tile, top, left) => {
      expect(tile.height <= 8 && tile.width <= 8).toBe(true);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < tile.height; y++)
          for (let x = 0; x < tile.width; x++) {
            if (c === 0) covered[(top + y) * 14 + left + x]++;
            expect(tile.data[(c * tile.height + y) * tile.width + x]).toBe(whole[(c * 18 + top + y) * 14 + left + x]);
          }
    },
    { tile: 4, overlap: 2 },
  );
  expect(covered.every((n) => n === 1)).toBe(true);
  student.dispose();
});

test('a no-grad forward frees each activation after its last consumer: its peak memory is a few feature maps, whatever the depth', () => {
  const nFeats = 8;
  const [h, w] = [32, 32];
  const featureMap = nFeats * h * w * 4;
  const peak = (nBlocks: number, nResblocks: number) => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats, nBlocks, nResblocks, scale: 2 }), { seed: 3 });
    const lr = image(h, w, 2);
    const before = memory().liveBytes;
    resetPeakMemory();
    noGrad(() =>
      tidy(() => {
        student.forward(lr);
      }),
    );
    const bytes = memory().peakBytes - before;
    expect(memory().liveBytes).toBe(before);
    lr.dispose();
    student.dispose();
    return bytes;
  };
  // The widest convolution alone (2C in, 4C out, the encoder's last): its operands, and whatever
  // temporaries the CPU kernels take (oneDNN's reordered operands and scratchpad).
  const widest = () => {
    const x = randomTensor([1, 2 * nFeats, h, w], 4, 'float32');
    const weight = randomTensor([4 * nFeats, 2 * nFeats, 3, 3], 5, 'float32');
    const before = memory().liveBytes;
    resetPeakMemory();
    conv2d(x, weight, null, { padding: 1 }).dispose();
    const bytes = memory().peakBytes - before;
    dispose([x, weight]);
    return bytes;
  };
  const shallow = peak(1, 1);
  const deep = peak(16, 8);
  // Kept until tidy() returned, the deep network's 8 encoder residual blocks alone held 32 feature
  // maps more than the shallow one's. Freed as they go, the peak is the widest convolution's (its
  // 2C in, 4C out and temporaries) plus a few live maps beside it, at any depth.
  expect(deep).toBeLessThanOrEqual(shallow);
  expect(deep).toBeLessThan(widest() + 8 * featureMap);
});

describe('dihedral transforms and self-ensemble', () => {
  const small: HostImage = { channels: 1, height: 2, width: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };

  test('the eight transforms are distinct and each is undone by its inverse', () => {
    expect(Array.from(dihedral(small, 1).data)).toEqual([3, 2, 1, 6, 5, 4]); // columns flipped
    expect(Array.from(dihedral(small, 2).data)).toEqual([4, 5, 6, 1, 2, 3]); // rows flipped
    expect(dihedral(small, 4)).toMatchObject({ height: 3, width: 2, data: Float32Array.from([1, 4, 2, 5, 3, 6]) });
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) {
      seen.add(Array.from(dihedral(small, t).data).join(',') + dihedral(small, t).height);
      expect(inverseDihedral(dihedral(small, t), t)).toEqual(small);
    }
    expect(seen.size).toBe(8);
  });

  test('self-ensemble commutes with flips and transposes: ensemble(T(x)) = T(ensemble(x))', () => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 4, nBlocks: 2, nResblocks: 1, scale: 2 }), { seed: 9 });
    const lr = image(6, 6, 4);
    const host = (t: Tensor): HostImage => ({ channels: 3, height: t.shape[2], width: t.shape[3], data: t.toFloat32Array() });
    const plain = upscale(student, lr);
    const ensemble = upscale(student, lr, { selfEnsemble: true, tile: 4, overlap: 2 });
    for (const t of [1, 2, 5, 7]) {
      const moved = dihedral(host(lr), t);
      const out = upscale(student, Tensor.fromArray(moved.data, [1, 3, moved.height, moved.width]), { selfEnsemble: true, tile: 4, overlap: 2 });
      expect(relativeError(host(out).data, dihedral(host(ensemble), t).data)).toBeLessThan(1e-5);
    }
    // Not trivially symmetric: a single pass does not commute.
    const flipped = dihedral(host(lr), 1);
    const single = upscale(student, Tensor.fromArray(flipped.data, [1, 3, 6, 6]));
    expect(relativeError(host(single).data, dihedral(host(plain), 1).data)).toBeGreaterThan(1e-4);
    student.dispose();
  });

  test('a batch is upscaled sample by sample, each with its own D', () => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale: 3 }), { seed: 11 });
    const [a, b] = [image(5, 4, 6), image(5, 4, 7)];
    const both = Tensor.fromArray(Float32Array.from([...a.toFloat32Array(), ...b.toFloat32Array()]), [2, 3, 5, 4]);
    const out = upscale(student, both, { tile: 3, overlap: 1 });
    expect(out.shape).toEqual([2, 3, 15, 12]);
    const separate = [...upscale(student, a, { tile: 3, overlap: 1 }).toFloat32Array(), ...upscale(student, b, { tile: 3, overlap: 1 }).toFloat32Array()];
    expect(Array.from(out.toFloat32Array())).toEqual(separate);
    student.dispose();
  });

  test('an aborted signal stops between tiles; a wrong image shape and NaN pixels are refused', () => {
    const student = new KdsrStudent(kdsrConfig('custom', { nFeats: 4, nBlocks: 1, nResblocks: 1, scale: 2 }), { seed: 10 });
    const controller = new AbortController();
    let tiles = 0;
    const run = () =>
      upscale(student, image(8, 8, 5), {
        tile: 4,
        onProgress: () => {
          if (++tiles === 2) controller.abort(new Error('stopped by the user'));
        },
        signal: controller.signal,
      });
    expect(run).toThrow('stopped by the user');
    expect(tiles).toBe(2);
    expect(() => upscale(student, image(8, 8, 5).reshape([3, 1, 8, 8]))).toThrow('image must be (B, 3, H, W)');
    // NaN pixels would spread through the convolutions to NaN output: refused, with where.
    const holed = image(8, 8, 5).toFloat32Array();
    holed[64 + 8 * 2 + 3] = NaN;
    expect(() => upscale(student, Tensor.fromArray(holed, [1, 3, 8, 8]))).toThrow('upscale: the image has a non-finite value (NaN) at channel 1, row 2, column 3');
    student.dispose();
  });
});
