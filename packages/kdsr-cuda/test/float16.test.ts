// floatToHalf against halfToFloat as the oracle: every finite half round-trips, and between two
// neighbouring halves the float32 values just below, at and just above the midpoint round to the
// nearer one (ties to the even bit pattern). Writing released weights as F16 relies on this.
import { floatToHalf, halfToFloat, loadSafetensorsBuffer, saveSafetensorsBuffer, Tensor } from '../src/ts';

const f32 = Math.fround;
const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
/** The float32 neighbour of a positive float32 x, one unit in the last place up (+1) or down (-1). */
function step(x: number, direction: 1 | -1): number {
  float[0] = x;
  bits[0] += direction;
  return float[0];
}

describe('floatToHalf', () => {
  test('every finite half round-trips, both signs', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x7c00; h++) {
      if (floatToHalf(halfToFloat(h)) !== h) wrong.push(h);
      if (floatToHalf(halfToFloat(h | 0x8000)) !== (h | 0x8000)) wrong.push(h | 0x8000);
    }
    expect(wrong).toEqual([]);
  });

  test('rounds to nearest, ties to even, between every pair of neighbouring halves', () => {
    const wrong: string[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const exact = (halfToFloat(h) + halfToFloat(h + 1)) / 2;
      const mid = f32(exact); // ≤ 12 significant bits: exact in float32
      const got = [floatToHalf(step(mid, -1)), floatToHalf(mid), floatToHalf(step(mid, 1))];
      if (mid !== exact || got[0] !== h || got[1] !== (h % 2 === 0 ? h : h + 1) || got[2] !== h + 1) wrong.push(`${h}: ${got.join(' ')}`);
    }
    expect(wrong).toEqual([]);
  });

  test('overflow, underflow, infinities and NaN', () => {
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65519.99)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // the tie rounds to the even pattern, which is Infinity
    expect(floatToHalf(1e10)).toBe(0x7c00);
    expect(floatToHalf(-1e10)).toBe(0xfc00);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
    expect(floatToHalf(2 ** -25)).toBe(0); // half of the smallest subnormal: tie to even (zero)
    expect(floatToHalf(step(2 ** -25, 1))).toBe(1);
    expect(floatToHalf(1e-30)).toBe(0);
    expect(floatToHalf(-1e-30)).toBe(0x8000);
  });

  test('safetensors stores float32 tensors as F16 on request and widens them back', () => {
    const values = new Float32Array([0.1, -3.14159, 1e-6, 2048.5, 0]);
    const t = Tensor.fromArray(values, [5]);
    const buffer = saveSafetensorsBuffer({ w: t }, { role: 'test' }, { storeAs: 'float16' });
    const header = JSON.parse(buffer.subarray(8, 8 + Number(buffer.readBigUInt64LE(0))).toString()) as Record<string, { dtype: string }>;
    expect(header.w.dtype).toBe('F16');
    const { tensors, metadata } = loadSafetensorsBuffer(buffer);
    expect(metadata.role).toBe('test');
    expect([...tensors.get('w')!.toArray()]).toEqual([...values].map((v) => halfToFloat(floatToHalf(v))));
    t.dispose();
    tensors.get('w')!.dispose();
  });
});
