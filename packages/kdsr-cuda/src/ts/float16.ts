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
