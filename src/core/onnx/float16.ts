/**
 * IEEE half precision as onnxruntime-node hands it over (float16 tensors are Uint16Array bit
 * patterns). Reading them as float32 would be wrong; converting one value at a time with
 * arithmetic costs about as much as the sampling it feeds, so a 65,536-entry table does it.
 */
let table: Float32Array | undefined;

function halfToFloatTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65_536);
  for (let bits = 0; bits < 65_536; bits++) table[bits] = halfToFloat(bits);
  return table;
}

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** `count` values of `source` from `start` as float32 (a view, no copy, when they already are). */
export function toFloat32(source: Float32Array | Uint16Array, start = 0, count = source.length - start): Float32Array {
  if (source instanceof Float32Array) return source.subarray(start, start + count);
  const lookup = halfToFloatTable();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lookup[source[start + i]!]!;
  return out;
}

/** float32 → IEEE half, round to nearest even (test models and fp16 graph constants). */
export function floatToHalf(value: number): number {
  const floats = new Float32Array(1);
  const bits = new Uint32Array(floats.buffer);
  floats[0] = value;
  const x = bits[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}
