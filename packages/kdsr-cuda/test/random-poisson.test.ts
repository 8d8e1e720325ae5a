import { randomPoisson, randomUniform, Tensor, tidy } from '../src/ts';

function logFactorial(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}

describe('random_poisson', () => {
  test.each([0.3, 2.5, 9.99, 10, 37.5, 256])('rate %p: mean, variance and histogram match the Poisson law', (lambda) => {
    tidy(() => {
      const n = 40000;
      const counts = randomPoisson(Tensor.fromArray(new Float64Array(n).fill(lambda), [n], { dtype: 'float64' }), { seed: 12345 }).toArray();
      let mean = 0;
      for (const c of counts) {
        expect(Number.isInteger(c) && c >= 0).toBe(true);
        mean += c / n;
      }
      let variance = 0;
      for (const c of counts) variance += (c - mean) ** 2 / (n - 1);
      // Standard errors: mean sqrt(λ/n); variance ≈ sqrt((2λ² + λ)/n).
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      expect(Math.abs(variance - lambda)).toBeLessThan(5 * Math.sqrt((2 * lambda * lambda + lambda) / n));
      // Every value with expected count >= 100 within 5 standard deviations.
      const histogram = new Map<number, number>();
      for (const c of counts) histogram.set(c, (histogram.get(c) ?? 0) + 1);
      let checked = 0;
      for (let k = 0; k < 1000; k++) {
        const p = Math.exp(-lambda + k * Math.log(lambda) - logFactorial(k));
        if (n * p < 100) continue;
        checked++;
        expect(Math.abs((histogram.get(k) ?? 0) - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
      }
      expect(checked).toBeGreaterThan(0);
    });
  });

  test('deterministic per (seed, offset, element); rate 0 gives 0; float32 equals float64', () => {
    tidy(() => {
      const rates = Float64Array.from({ length: 64 }, (_, i) => (i % 8) * 7.3);
      const a = randomPoisson(Tensor.fromArray(rates, [8, 8], { dtype: 'float64' }), { seed: 9, offset: 100 }).toArray();
      const b = randomPoisson(Tensor.fromArray(rates, [8, 8], { dtype: 'float64' }), { seed: 9, offset: 100 }).toArray();
      const c = randomPoisson(Tensor.fromArray(rates, [8, 8], { dtype: 'float64' }), { seed: 10, offset: 100 }).toArray();
      const f = randomPoisson(Tensor.fromArray(Float32Array.from(rates), [8, 8]), { seed: 9, offset: 100 }).toArray();
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).toEqual(Array.from(f));
      expect(Array.from(a)).not.toEqual(Array.from(c));
      a.forEach((v, i) => (rates[i] === 0 ? expect(v).toBe(0) : undefined));
      // Element i of a draw at offset o equals element i - 1 of a draw at offset o + 1.
      const shifted = randomPoisson(Tensor.fromArray(rates.slice(1), [63], { dtype: 'float64' }), { seed: 9, offset: 101 }).toArray();
      expect(Array.from(shifted)).toEqual(Array.from(a.slice(1)));
      // Independent of the uniform stream of the same seed and offset (a different tag).
      expect(randomUniform([4], { seed: 9, offset: 100 }).shape).toEqual([4]);
    });
  });

  test('rejects negative rates and bad seeds', () => {
    tidy(() => {
      expect(() => randomPoisson(Tensor.fromArray([1, -1], [2]), { seed: 1 })).toThrow(/rates must be finite and >= 0/);
      expect(() => randomPoisson(Tensor.fromArray([1], [1]), { seed: -1 })).toThrow(/seed must be an integer/);
    });
  });
});
