import { fill, memory, native, randomNormal, randomStreamBlocks, randomUniform, tidy } from '../src/ts';

// Random123 tests/kat_vectors, the three philox4x32 10 lines: counter[4], key[2] -> result[4].
const KAT: Array<[number[], number[], number[]]> = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

const TWO32 = 2 ** 32;

/** The words of block `block` of the stream of `seed`, by op-table.json's definition, from the raw generator. */
function streamBlock(seed: number, block: number): number[] {
  return native().philox4x32([block % TWO32, Math.floor(block / TWO32), 0, 0], [seed % TWO32, Math.floor(seed / TWO32)]);
}

const u24 = (w: number) => Math.floor(w / 256) / 2 ** 24;

function uniformReference(n: number, seed: number, offset: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => u24(streamBlock(seed, offset + Math.floor(i / 4))[i % 4]));
}

function normalReference(n: number, seed: number, offset: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    const w = streamBlock(seed, offset + Math.floor(i / 4));
    const pair = i % 4 < 2 ? 0 : 2;
    const r = Math.sqrt(-2 * Math.log((Math.floor(w[pair] / 256) + 1) / 2 ** 24));
    const theta = 2 * Math.PI * u24(w[pair + 1]);
    return i % 2 === 0 ? r * Math.cos(theta) : r * Math.sin(theta);
  });
}

function moments(v: ArrayLike<number>): { mean: number; variance: number } {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length;
  let variance = 0;
  for (let i = 0; i < v.length; i++) variance += (v[i] - mean) ** 2;
  return { mean, variance: variance / (v.length - 1) };
}

describe('Philox4x32-10', () => {
  test.each(KAT)('reproduces the Random123 known answer for counter %j key %j', (counter, key, expected) => {
    expect(native().philox4x32(counter, key)).toEqual(expected);
  });

  test('random_uniform is the documented stream (seed and block split into 32-bit words)', () => {
    tidy(() => {
      // Seed 0, offset 0 is the first known-answer vector: the top 24 bits of its four words.
      const first = randomUniform([4], { seed: 0, dtype: 'float64' }).toArray();
      expect(Array.from(first)).toEqual(KAT[0][2].map(u24));
      for (const [seed, offset] of [
        [0, 0],
        [12345, 7],
        [2 ** 40 + 987654321, 2 ** 33 + 5], // high words of key and counter in use
        [Number.MAX_SAFE_INTEGER, 2 ** 32 - 1], // block counter carries into its high word inside the draw
      ]) {
        const y = randomUniform([3, 7], { seed, offset, dtype: 'float64' });
        expect(Array.from(y.toArray())).toEqual(Array.from(uniformReference(21, seed, offset)));
        // float32 holds the same 24-bit values exactly.
        expect(Array.from(randomUniform([3, 7], { seed, offset }).toArray())).toEqual(Array.from(uniformReference(21, seed, offset)));
      }
    });
  });

  test('random_normal is Box-Muller on the documented word pairs', () => {
    tidy(() => {
      for (const [seed, offset] of [
        [1, 0],
        [2 ** 35 + 3, 2 ** 32 - 2],
      ]) {
        const y = randomNormal([5, 3], { seed, offset, dtype: 'float64' }).toArray();
        const expected = normalReference(15, seed, offset);
        for (let i = 0; i < 15; i++) expect(Math.abs(y[i] - expected[i])).toBeLessThan(1e-13);
        const y32 = randomNormal([5, 3], { seed, offset }).toArray();
        for (let i = 0; i < 15; i++) expect(Math.abs(y32[i] - expected[i])).toBeLessThan(5e-6 * Math.max(1, Math.abs(expected[i])));
      }
    });
  });
});

describe('random_uniform / random_normal', () => {
  const n = 1_000_000;

  test('uniform samples have the moments of U(low, high) and stay in range', () => {
    tidy(() => {
      const u = randomUniform([n], { seed: 42, dtype: 'float64' }).toArray();
      const { mean, variance } = moments(u);
      // Standard errors: mean sqrt(1/12/n) = 2.9e-4, variance sqrt((1/80 - 1/144)/n) = 7.5e-5.
      expect(Math.abs(mean - 0.5)).toBeLessThan(5 * 2.9e-4);
      expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * 7.5e-5);
      expect(Math.min(...u.subarray(0, 100000))).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u.subarray(0, 100000))).toBeLessThan(1);
      const s = randomUniform([n], { seed: 43, low: -3, high: 5 }).toArray();
      const m = moments(s);
      expect(Math.abs(m.mean - 1)).toBeLessThan(5 * 8 * 2.9e-4);
      expect(Math.abs(m.variance - 64 / 12)).toBeLessThan(5 * 64 * 7.5e-5);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of s) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      expect(lo).toBeGreaterThanOrEqual(-3);
      expect(hi).toBeLessThan(5);
    });
  });

  test('normal samples have the moments of N(mean, std^2) and are finite', () => {
    tidy(() => {
      const z = randomNormal([n], { seed: 7, dtype: 'float64' }).toArray();
      const { mean, variance } = moments(z);
      // Standard errors: mean 1/sqrt(n) = 1e-3, variance sqrt(2/n) = 1.41e-3.
      expect(Math.abs(mean)).toBeLessThan(5e-3);
      expect(Math.abs(variance - 1)).toBeLessThan(5 * 1.41e-3);
      let fourth = 0;
      for (const v of z) fourth += v ** 4;
      expect(Math.abs(fourth / n - 3)).toBeLessThan(5 * Math.sqrt(96 / n)); // kurtosis of a normal: E z^4 = 3, Var z^4 = 96
      const y = randomNormal([n], { seed: 8, mean: 2, std: 0.5 }).toArray();
      expect(Array.from(y).every(Number.isFinite)).toBe(true);
      const m = moments(y);
      expect(Math.abs(m.mean - 2)).toBeLessThan(5 * 0.5e-3);
      expect(Math.abs(m.variance - 0.25)).toBeLessThan(5 * 0.25 * 1.41e-3);
    });
  });

  test('same seed and offset give the same values; offset continues the stream', () => {
    tidy(() => {
      for (const draw of [randomUniform, randomNormal]) {
        const a = draw([3, 5], { seed: 99, offset: 4 }).toArray();
        expect(Array.from(draw([3, 5], { seed: 99, offset: 4 }).toArray())).toEqual(Array.from(a));
        expect(Array.from(draw([3, 5], { seed: 100, offset: 4 }).toArray())).not.toEqual(Array.from(a));
        // Two draws of 10 and 12 values, the second at offset + randomStreamBlocks(10), equal the
        // values 0..9 and 12..23 of one draw of 24 (the 10-value draw leaves 2 of its last block unused).
        const whole = Array.from(draw([24], { seed: 5 }).toArray());
        const head = Array.from(draw([10], { seed: 5 }).toArray());
        const tail = Array.from(draw([12], { seed: 5, offset: randomStreamBlocks(10) }).toArray());
        expect(randomStreamBlocks(10)).toBe(3);
        expect(head).toEqual(whole.slice(0, 10));
        expect(tail).toEqual(whole.slice(12, 24));
      }
    });
  });

  test('bad arguments throw clear errors', () => {
    tidy(() => {
      expect(() => randomUniform([2], { seed: -1 })).toThrow('Error in random_uniform: seed must be an integer in [0, 2^53), got -1');
      expect(() => randomNormal([2], { seed: 1, offset: 0.5 })).toThrow('Error in random_normal: offset must be an integer in [0, 2^53), got 0.5');
      expect(() => randomUniform([2], { seed: 2 ** 53 })).toThrow('Error in random_uniform: seed must be an integer in [0, 2^53)');
      expect(() => randomUniform([2], { seed: 1, low: 1, high: 0 })).toThrow('Error in random_uniform: low 1 must not exceed high 0');
      expect(() => randomNormal([2, -1], { seed: 1 })).toThrow('Error in random_normal: shape must be an array of non-negative integers, got [2,-1]');
      expect(() => native().philox4x32([0, 0, 0], [0, 0])).toThrow('philox4x32(counter, key) expects 4 counter words and 2 key words');
    });
  });
});

describe('fill', () => {
  test('creates tensors of the requested shape, dtype and value', () => {
    tidy(() => {
      const before = memory().liveBuffers;
      const a = fill([2, 3], 1.5);
      expect(a.shape).toEqual([2, 3]);
      expect(a.dtype).toBe('float32');
      expect(Array.from(a.toArray())).toEqual([1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
      const b = fill([3], -0.1, { dtype: 'float64' });
      expect(Array.from(b.toArray())).toEqual([-0.1, -0.1, -0.1]);
      expect(fill([0, 4], 2).size).toBe(0);
      expect(memory().liveBuffers).toBe(before + 3);
      expect(() => fill([2.5], 0)).toThrow('Error in fill: shape must be an array of non-negative integers, got [2.5]');
      expect(() => fill([2], 0, { device: 'tpu' })).toThrow("unknown device 'tpu'");
    });
  });
});
