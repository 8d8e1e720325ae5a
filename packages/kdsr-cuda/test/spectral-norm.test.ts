import { spectralNorm, spectralNormBackward, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

const F = 'gan.safetensors';

/** A unit vector of length n (a valid power-iteration state). */
function unit(n: number, seed: number): Tensor {
  const v = randomTensor([n], seed).toArray();
  const norm = Math.hypot(...v);
  return Tensor.fromArray(v.map((x) => x / norm), [n], { dtype: 'float64' });
}

describe('spectral_norm', () => {
  test('matches the fixture: one training-mode power iteration, sigma, the normalised weight and its gradient', () => {
    tidy(() => {
      const w = fixtureTensor(F, 'op.sn.weight_orig');
      const r = spectralNorm(w, fixtureTensor(F, 'op.sn.u'), fixtureTensor(F, 'op.sn.v'), { training: true });
      expectClose(r.sigma, fixtureTensor(F, 'op.sn.sigma'), 1e-5, 'sigma');
      expectClose(r.weight, fixtureTensor(F, 'op.sn.weight'), 1e-5, 'weight');
      expectClose(r.u, fixtureTensor(F, 'op.sn.u_new'), 1e-5, 'u_new');
      expectClose(r.v, fixtureTensor(F, 'op.sn.v_new'), 1e-5, 'v_new');
      expectClose(spectralNormBackward(fixtureTensor(F, 'op.sn.dy'), w, r.u, r.v), fixtureTensor(F, 'op.sn.grad_weight_orig'), 1e-4, 'grad_weight_orig');
    });
  });

  test('eval mode uses the stored u and v', () => {
    tidy(() => {
      const u = fixtureTensor(F, 'op.sn.u');
      const v = fixtureTensor(F, 'op.sn.v');
      const r = spectralNorm(fixtureTensor(F, 'op.sn.weight_orig'), u, v, { training: false });
      expectClose(r.sigma, fixtureTensor(F, 'op.sn.sigma_eval'), 1e-5, 'sigma_eval');
      expectClose(r.u, u, 0, 'u');
      expectClose(r.v, v, 0, 'v');
    });
  });

  // [weight shape, training]: a conv weight and a plain matrix, in both modes.
  test.each([[[3, 2, 2, 2], true], [[4, 5], true], [[3, 2, 2, 2], false], [[2, 3], false]] as Array<[number[], boolean]>)(
    'backward matches finite differences with u, v held constant, for %j (training %s)',
    (shape, training) => {
      tidy(() => {
        const w = randomTensor(shape, 1);
        const rows = shape[0];
        const r = spectralNorm(w, unit(rows, 2), unit(w.size / rows, 3), { training });
        const dy = randomTensor(shape, 4);
        // With u' and v' fixed, weight = W / (u'ᵀ W v'): eval mode at the forward's own u', v'.
        const f = ([t]: Tensor[]) => spectralNorm(t, r.u, r.v, { training: false }).weight;
        expectGradClose(spectralNormBackward(dy, w, r.u, r.v), numericalVjp(f, [w], 0, dy.toArray() as Float64Array), 1e-7, 'dweight_orig');
      });
    },
  );

  test('repeated power iterations converge to the largest singular value', () => {
    tidy(() => {
      // diag(3, 2, 1) rotated by a permutation: the spectral norm is 3.
      const w = Tensor.fromArray([0, 2, 0, 0, 0, 1, 3, 0, 0], [3, 3], { dtype: 'float64' });
      let u = unit(3, 5);
      let v = unit(3, 6);
      for (let i = 0; i < 60; i++) ({ u, v } = spectralNorm(w, u, v, { training: true }));
      expect(spectralNorm(w, u, v, { training: false }).sigma.toArray()[0]).toBeCloseTo(3, 12);
    });
  });

  test('rejects bad arguments with clear errors', () => {
    tidy(() => {
      const w = randomTensor([4, 2, 3, 3], 7);
      expect(() => spectralNorm(w, unit(3, 8), unit(18, 9), { training: true })).toThrow(
        'Error in spectral_norm: u must have shape [4] for weight_orig [4,2,3,3], got [3]',
      );
      expect(() => spectralNorm(w, unit(4, 8), unit(9, 9), { training: true })).toThrow(
        'Error in spectral_norm: v must have shape [18] for weight_orig [4,2,3,3], got [9]',
      );
      expect(() => spectralNorm(randomTensor([4], 10), unit(4, 8), unit(1, 9), { training: true })).toThrow(
        'Error in spectral_norm: weight_orig must have rank 2 or more, got shape [4]',
      );
    });
  });
});
