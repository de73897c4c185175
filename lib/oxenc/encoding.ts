/**
 * Key and text encodings of oxen-encoding (oxenc), as used by OxenMQ for public keys in
 * addresses and logs (`oxenc/hex.h`, `oxenc/base32z.h`, `oxenc/base64.h`).
 *
 * - hex: lower-case out, either case in, even length only.
 * - base32z: alphabet `ybndrfg8ejkmcpqxot1uwisza345h769`, most significant bits first in 5-bit
 *   groups, final partial group left-aligned and zero-filled, no padding; decoding is
 *   case-insensitive; lengths ≡ 1, 3, 6 (mod 8) cannot be produced by the encoder and are invalid.
 * - base64: standard alphabet only (no URL-safe variant); `=` padding allowed only when it makes
 *   the length a multiple of 4; length ≡ 1 (mod 4) invalid.
 *
 * Trailing bits: like oxenc, the decoders ignore the unused low bits of the final character
 * instead of requiring them to be zero (oxenc documents that "9999" and "999o" both decode to
 * ff ff). Rejecting them would make us refuse keys that C++ peers accept, so a key string decodes
 * here exactly as it does in oxenmq.
 *
 * Node's own `Buffer.from(s, 'hex' | 'base64')` is lenient (it stops at the first bad character,
 * accepts URL-safe base64 and whitespace), so every decoder validates first and throws
 * {@link OmqError} with code `ERR_OMQ_BAD_ENCODING` on anything malformed.
 */
import { base64String, hexBytes, hexString, latin1String, newBytes } from '../../zmtp/index.js';
import { OmqError, OmqErrorCode } from '../errors.js';

const B32Z_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** char code → 5-bit value, or -1; both cases of each letter map to the same value. */
const B32Z_DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) {
  const c = B32Z_ALPHABET.charCodeAt(i);
  B32Z_DECODE[c] = i;
  if (c >= 0x61 && c <= 0x7a) B32Z_DECODE[c - 0x20] = i;
}
const B32Z_ENCODE = new Uint8Array(32);
for (let i = 0; i < 32; i++) B32Z_ENCODE[i] = B32Z_ALPHABET.charCodeAt(i);

/** char code → 6-bit value, or -1. */
const B64_DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_DECODE[B64_ALPHABET.charCodeAt(i)] = i;

function badEncoding(message: string): OmqError {
  return new OmqError(OmqErrorCode.BAD_ENCODING, message);
}

function assertString(s: unknown, what: string): asserts s is string {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
}

function assertBytes(b: unknown, what: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
}


// ---------------------------------------------------------------------------------------------
// hex

/** True iff `s` is an even-length string of hex digits (either case). The empty string is valid. */
export function isHex(s: string): boolean {
  if (typeof s !== 'string' || (s.length & 1) !== 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 0-9, A-F, a-f
    if (!((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66))) return false;
  }
  return true;
}

/** Lower-case hex of `bytes` (Node's native encoder: this sits on log and key paths). */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'toHex input');
  return hexString(bytes);
}

/**
 * Decodes hex (either case).
 * @throws {OmqError} `ERR_OMQ_BAD_ENCODING` on odd length or a non-hex character.
 */
export function fromHex(s: string): Uint8Array {
  assertString(s, 'fromHex input');
  if (!isHex(s)) throw badEncoding('invalid hex string');
  return hexBytes(s);
}

// ---------------------------------------------------------------------------------------------
// base32z

/**
 * True iff every character of `s` is in the base32z alphabet (either case) and its length is one
 * the encoder can produce (not ≡ 1, 3 or 6 mod 8). The empty string is valid.
 */
export function isBase32z(s: string): boolean {
  if (typeof s !== 'string') return false;
  const r = s.length % 8;
  // 5n+k bytes give 8n + {0,2,4,5,7} characters; the other remainders are impossible.
  if (r === 1 || r === 3 || r === 6) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B32Z_DECODE[c]! < 0) return false;
  }
  return true;
}

/** Encodes `bytes` as lower-case base32z (32 bytes → 52 characters). */
export function toBase32z(bytes: Uint8Array): string {
  assertBytes(bytes, 'toBase32z input');
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let acc = 0; // holds at most 12 pending bits
  let bits = 0;
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    acc = (acc << 8) | bytes[i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[o++] = B32Z_ENCODE[(acc >>> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  // Final partial group: left-aligned, zero-filled.
  if (bits > 0) out[o++] = B32Z_ENCODE[(acc << (5 - bits)) & 31]!;
  return latin1String(out, 0, o);
}

/**
 * Decodes base32z (case-insensitive). Unused trailing bits are ignored, as in oxenc.
 * @throws {OmqError} `ERR_OMQ_BAD_ENCODING` on a character outside the alphabet or an impossible length.
 */
export function fromBase32z(s: string): Uint8Array {
  assertString(s, 'fromBase32z input');
  if (!isBase32z(s)) throw badEncoding('invalid base32z string');
  const out = newBytes(Math.floor((s.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    acc = ((acc << 5) | B32Z_DECODE[s.charCodeAt(i)]!) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// base64

/**
 * True iff `s` is standard base64: alphabet `A–Z a–z 0–9 + /`, optionally ending in one or two
 * `=` that make the length a multiple of 4, and a data length not ≡ 1 (mod 4). The empty string
 * is valid. URL-safe `-`/`_` and whitespace are not.
 */
export function isBase64(s: string): boolean {
  if (typeof s !== 'string') return false;
  let end = s.length;
  if (end % 4 === 1) return false;
  // Padding is only recognised when it completes a multiple of 4 (oxenc's rule).
  if (end > 0 && end % 4 === 0 && s.charCodeAt(end - 1) === 0x3d) {
    end--;
    if (s.charCodeAt(end - 1) === 0x3d) end--;
  }
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || B64_DECODE[c]! < 0) return false;
  }
  // After stripping, the data length is 4n−1 or 4n−2, never the impossible 4n+1.
  return true;
}

/** Options of {@link toBase64}. */
export interface Base64Options {
  /** Append `=` padding to a multiple of 4 characters (default true, as oxenc's `to_base64`). */
  pad?: boolean;
}

/**
 * Encodes `bytes` as standard base64. oxenmq writes 32-byte keys unpadded (43 characters):
 * use `{ pad: false }` for that.
 */
export function toBase64(bytes: Uint8Array, options: Base64Options = {}): string {
  assertBytes(bytes, 'toBase64 input');
  const s = base64String(bytes);
  if (options.pad === false) {
    let end = s.length;
    while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
    return end === s.length ? s : s.slice(0, end);
  }
  return s;
}

/**
 * Decodes standard base64, padded or not. Unused trailing bits are ignored, as in oxenc.
 * @throws {OmqError} `ERR_OMQ_BAD_ENCODING` on anything {@link isBase64} rejects.
 */
export function fromBase64(s: string): Uint8Array {
  assertString(s, 'fromBase64 input');
  if (!isBase64(s)) throw badEncoding('invalid base64 string');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  const out = newBytes(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    acc = ((acc << 6) | B64_DECODE[s.charCodeAt(i)]!) & 0x3fff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// public keys

/** Length in bytes of an X25519 / Ed25519 public key. */
export const PUBKEY_BYTES = 32;

/**
 * Accepts a 32-byte public key as raw bytes or as a 64-character hex, 52-character base32z or
 * 43-character (unpadded) / 44-character (`=`-padded) base64 string, and returns its bytes.
 * Raw input is returned as given (not copied).
 *
 * @throws {OmqError} `ERR_OMQ_BAD_ENCODING` for any other length or a malformed string.
 * @throws {TypeError} if `input` is neither a string nor a Uint8Array.
 */
export function parsePubkey(input: Uint8Array | string): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length !== PUBKEY_BYTES) throw badEncoding(`public key must be ${PUBKEY_BYTES} bytes, got ${input.length}`);
    return input;
  }
  if (typeof input !== 'string') throw new TypeError('public key must be a Uint8Array or a string');
  switch (input.length) {
    case 64:
      return fromHex(input);
    case 52:
      return fromBase32z(input);
    case 43:
      return fromBase64(input);
    case 44:
      // 44 characters is 33 bytes unless the last one is padding.
      if (input.charCodeAt(43) === 0x3d) return fromBase64(input);
      break;
  }
  throw badEncoding('public key string must be 64 hex, 52 base32z or 43/44 base64 characters');
}
