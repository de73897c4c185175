/**
 * Z85 (ZeroMQ RFC 32, "Z85"): the printable encoding libzmq uses for CURVE keys, 4 bytes ↔ 5
 * characters, big-endian base 85 over the RFC's alphabet. A 32-byte key is 40 characters.
 *
 * Both directions are strict, as RFC 32 requires: the binary length must be a multiple of 4 and
 * the string length a multiple of 5, every character must be in the alphabet, and a group whose
 * value exceeds 2^32 − 1 is rejected rather than silently truncated.
 */

/** RFC 32 §"Formal Specification": the 85-character alphabet, in value order. */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Character code → value, or -1 for characters outside the alphabet. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as Z85.
 * @throws TypeError if `data` is not a Uint8Array; RangeError if its length is not a multiple of 4.
 */
export function z85Encode(data: Uint8Array): string {
  if (!(data instanceof Uint8Array)) throw new TypeError('z85Encode expects a Uint8Array');
  if (data.length % 4 !== 0) throw new RangeError('Z85 input length must be a multiple of 4');
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let v = ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
    const c4 = v % 85; v = Math.floor(v / 85);
    const c3 = v % 85; v = Math.floor(v / 85);
    const c2 = v % 85; v = Math.floor(v / 85);
    const c1 = v % 85; v = Math.floor(v / 85);
    out += ALPHABET[v]! + ALPHABET[c1]! + ALPHABET[c2]! + ALPHABET[c3]! + ALPHABET[c4]!;
  }
  return out;
}

/**
 * Decodes a Z85 string.
 * @throws TypeError if `text` is not a string; RangeError if its length is not a multiple of 5, it
 *   contains a character outside the Z85 alphabet, or a group encodes a value above 2^32 − 1.
 */
export function z85Decode(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('z85Decode expects a string');
  if (text.length % 5 !== 0) throw new RangeError('Z85 input length must be a multiple of 5');
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const d = code < 128 ? DECODE[code]! : -1;
      // The message names the position only: it must never echo the (possibly secret) input.
      if (d < 0) throw new RangeError(`Z85 input has an invalid character at offset ${i + j}`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new RangeError(`Z85 group at offset ${i} exceeds 32 bits`);
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}
