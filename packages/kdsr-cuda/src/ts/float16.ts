// 16-bit floats widened to numbers: IEEE half precision (safetensors F16, PyTorch HalfStorage) and
// bfloat16 (safetensors BF16, PyTorch BFloat16Storage). Shared by the checkpoint readers.

/** The value of an IEEE 754 half-precision bit pattern (an integer in [0, 65535]). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const word = new DataView(new ArrayBuffer(4));

/** The value of a bfloat16 bit pattern (an integer in [0, 65535]): the high half of a float32. */
export function bfloat16ToFloat(bits: number): number {
  word.setUint32(0, bits << 16);
  return word.getFloat32(0);
}

const single = new Float32Array(1);
const singleBits = new Uint32Array(single.buffer);

/**
 * The IEEE half-precision bit pattern nearest to `value` (rounded to nearest, ties to even, as a
 * float32 → float16 conversion in hardware): overflow gives ±Infinity, NaN stays NaN.
 */
export function floatToHalf(value: number): number {
  single[0] = value;
  const x = singleBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  // Normal halves keep 10 of the 23 mantissa bits; subnormal ones fewer (shift grows as e falls).
  const shift = e >= 1 ? 13 : 13 + 1 - e;
  if (shift > 24) return sign;
  const full = e >= 1 ? mantissa : mantissa | 0x800000;
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && half & 1)) half++;
  // A carry out of the mantissa moves to the exponent field, which is the correctly rounded result.
  return sign | ((e >= 1 ? e << 10 : 0) + half);
}
