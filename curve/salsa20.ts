/**
 * Salsa20/20 and HSalsa20 (D. J. Bernstein, "Salsa20 specification" and "Extending the Salsa20
 * nonce"), the stream half of NaCl's crypto_box that CurveZMQ (RFC 26 §"CurveZMQ Commands")
 * builds on. Internal to curve/: callers are box.ts and the MESSAGE codec, which have already
 * validated lengths, so nothing here checks its arguments (checks belong at the public boundary).
 *
 * Keys are held as eight little-endian u32 words so a per-connection key is converted once, not
 * per frame. The keystream is produced one 64-byte block at a time into a module-level scratch
 * block (JavaScript runs one call at a time, and no function here yields), which `keystreamEnd`
 * wipes after each box so no keystream outlives the operation that used it. Runs of whole 64-byte
 * blocks bypass that scratch: `xorBlocks` keeps each block in registers and XORs it four bytes at
 * a time (4 KiB boxes measured ≈1.7× faster than with a byte-at-a-time loop over the scratch).
 */

/** "expand 32-byte k" as the four little-endian words Salsa20 places on the diagonal. */
const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reads a little-endian u32 (Salsa20 serialises every word little-endian). */
export function readLE32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Converts a 32-byte key at `off` into the eight words the core consumes. */
export function keyWords(key: Uint8Array, off: number, out: Uint32Array): Uint32Array {
  for (let i = 0; i < 8; i++) out[i] = readLE32(key, off + 4 * i);
  return out;
}

/** Reverses the bytes of a u32: turns the big-endian CurveZMQ counter into Salsa20's LE words. */
export function bswap32(v: number): number {
  return ((v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * The Salsa20 double-round core. Positions 6..9 of the input matrix are `i0..i3` (nonce and block
 * counter for Salsa20, the 16-byte nonce for HSalsa20). With `hsalsa` false it writes the 16-word
 * block (state + input); with `hsalsa` true it writes HSalsa20's 8 output words (z0, z5, z10, z15,
 * z6, z7, z8, z9, without the feed-forward addition).
 */
function core(k: Uint32Array, i0: number, i1: number, i2: number, i3: number, out: Uint32Array, hsalsa: boolean): void {
  // `| 0` keeps every word an int32: Uint32Array reads and `>>> 0` values above 2^31 would
  // otherwise enter the loop as doubles and make V8 mix representations (measured 3× slower).
  const j0 = SIGMA0 | 0, j1 = k[0]! | 0, j2 = k[1]! | 0, j3 = k[2]! | 0, j4 = k[3]! | 0;
  const j5 = SIGMA1 | 0, j6 = i0 | 0, j7 = i1 | 0, j8 = i2 | 0, j9 = i3 | 0, j10 = SIGMA2 | 0;
  const j11 = k[4]! | 0, j12 = k[5]! | 0, j13 = k[6]! | 0, j14 = k[7]! | 0, j15 = SIGMA3 | 0;
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  let t: number;
  // Ten double rounds, written out: local variables stay in registers, which is what makes the
  // per-frame MESSAGE path several times faster than a generic array-based implementation.
  for (let r = 0; r < 10; r++) {
    // Column round.
    t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25);
    t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23);
    t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19);
    t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14);
    t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25);
    t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23);
    t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19);
    t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14);
    t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25);
    t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23);
    t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19);
    t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14);
    t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25);
    t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23);
    t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19);
    t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14);
    // Row round.
    t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25);
    t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23);
    t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19);
    t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14);
    t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25);
    t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23);
    t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19);
    t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14);
    t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25);
    t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23);
    t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19);
    t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14);
    t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25);
    t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23);
    t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19);
    t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14);
  }
  if (hsalsa) {
    out[0] = x0; out[1] = x5; out[2] = x10; out[3] = x15;
    out[4] = x6; out[5] = x7; out[6] = x8; out[7] = x9;
    return;
  }
  out[0] = (x0 + j0) | 0; out[1] = (x1 + j1) | 0; out[2] = (x2 + j2) | 0; out[3] = (x3 + j3) | 0;
  out[4] = (x4 + j4) | 0; out[5] = (x5 + j5) | 0; out[6] = (x6 + j6) | 0; out[7] = (x7 + j7) | 0;
  out[8] = (x8 + j8) | 0; out[9] = (x9 + j9) | 0; out[10] = (x10 + j10) | 0; out[11] = (x11 + j11) | 0;
  out[12] = (x12 + j12) | 0; out[13] = (x13 + j13) | 0; out[14] = (x14 + j14) | 0; out[15] = (x15 + j15) | 0;
}

/**
 * HSalsa20(key, nonce16) → 8 words: derives the XSalsa20 subkey, and with a zero nonce turns an
 * X25519 shared point into the crypto_box key (crypto_box_beforenm).
 */
export function hsalsa20(key: Uint32Array, nonce: Uint8Array, nonceOff: number, out: Uint32Array): Uint32Array {
  core(
    key,
    readLE32(nonce, nonceOff),
    readLE32(nonce, nonceOff + 4),
    readLE32(nonce, nonceOff + 8),
    readLE32(nonce, nonceOff + 12),
    out,
    true,
  );
  return out;
}

// The keystream of the box currently being processed: key words, the two nonce words and the
// block held in `block` (-1 = none).
const block = new Uint32Array(16);
/**
 * Byte view of the current keystream block (little-endian serialisation of `block`): block 0
 * after `keystreamBegin`, until `keystreamXor` moves on (read the Poly1305 key and byte 32 first).
 */
export const keystreamBlock = new Uint8Array(block.buffer);
let streamKey: Uint32Array = block;
let streamN0 = 0;
let streamN1 = 0;
let blockIndex = -1;

function loadBlock(index: number): void {
  core(streamKey, streamN0, streamN1, index >>> 0, Math.floor(index / 0x1_0000_0000), block, false);
  if (!LITTLE_ENDIAN) for (let i = 0; i < 16; i++) block[i] = bswap32(block[i]!);
  blockIndex = index;
}

/**
 * Starts the Salsa20 keystream for (`key`, nonce words `n0`, `n1`) and computes block 0, whose
 * first 32 bytes are the Poly1305 key of a secretbox (read them from {@link keystreamBlock}).
 */
export function keystreamBegin(key: Uint32Array, n0: number, n1: number): void {
  streamKey = key;
  streamN0 = n0;
  streamN1 = n1;
  loadBlock(0);
}

/**
 * XORs `count` whole keystream blocks, starting at block `index`, from `src` into `dst`: `core`
 * fused with the XOR, so the keystream words go from registers straight into the XOR without a
 * round trip through `block` (measured ≈5% on 4 KiB boxes). DataViews take any byte offset —
 * MESSAGE payloads start at keystream byte 33, so offsets are rarely 4-aligned — and V8 compiles
 * their little-endian accesses to single loads and stores. Each word is read before it is
 * written, so src and dst may be the same bytes.
 */
function xorBlocks(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, index: number, count: number): void {
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dv = src === dst ? sv : new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const k = streamKey;
  const j0 = SIGMA0 | 0, j1 = k[0]! | 0, j2 = k[1]! | 0, j3 = k[2]! | 0, j4 = k[3]! | 0;
  const j5 = SIGMA1 | 0, j6 = streamN0 | 0, j7 = streamN1 | 0, j10 = SIGMA2 | 0;
  const j11 = k[4]! | 0, j12 = k[5]! | 0, j13 = k[6]! | 0, j14 = k[7]! | 0, j15 = SIGMA3 | 0;
  for (let b = 0; b < count; b++, srcOff += 64, dstOff += 64) {
    const i = index + b;
    const j8 = i | 0, j9 = Math.floor(i / 0x1_0000_0000) | 0;
    let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
    let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
    let t: number;
    for (let r = 0; r < 10; r++) {
      // Column round.
      t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25);
      t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23);
      t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19);
      t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14);
      t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25);
      t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23);
      t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19);
      t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14);
      t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25);
      t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23);
      t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19);
      t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14);
      t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25);
      t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23);
      t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19);
      t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14);
      // Row round.
      t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25);
      t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23);
      t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19);
      t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14);
      t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25);
      t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23);
      t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19);
      t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14);
      t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25);
      t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23);
      t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19);
      t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14);
      t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25);
      t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23);
      t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19);
      t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14);
    }
    dv.setInt32(dstOff, sv.getInt32(srcOff, true) ^ (x0 + j0), true);
    dv.setInt32(dstOff + 4, sv.getInt32(srcOff + 4, true) ^ (x1 + j1), true);
    dv.setInt32(dstOff + 8, sv.getInt32(srcOff + 8, true) ^ (x2 + j2), true);
    dv.setInt32(dstOff + 12, sv.getInt32(srcOff + 12, true) ^ (x3 + j3), true);
    dv.setInt32(dstOff + 16, sv.getInt32(srcOff + 16, true) ^ (x4 + j4), true);
    dv.setInt32(dstOff + 20, sv.getInt32(srcOff + 20, true) ^ (x5 + j5), true);
    dv.setInt32(dstOff + 24, sv.getInt32(srcOff + 24, true) ^ (x6 + j6), true);
    dv.setInt32(dstOff + 28, sv.getInt32(srcOff + 28, true) ^ (x7 + j7), true);
    dv.setInt32(dstOff + 32, sv.getInt32(srcOff + 32, true) ^ (x8 + j8), true);
    dv.setInt32(dstOff + 36, sv.getInt32(srcOff + 36, true) ^ (x9 + j9), true);
    dv.setInt32(dstOff + 40, sv.getInt32(srcOff + 40, true) ^ (x10 + j10), true);
    dv.setInt32(dstOff + 44, sv.getInt32(srcOff + 44, true) ^ (x11 + j11), true);
    dv.setInt32(dstOff + 48, sv.getInt32(srcOff + 48, true) ^ (x12 + j12), true);
    dv.setInt32(dstOff + 52, sv.getInt32(srcOff + 52, true) ^ (x13 + j13), true);
    dv.setInt32(dstOff + 56, sv.getInt32(srcOff + 56, true) ^ (x14 + j14), true);
    dv.setInt32(dstOff + 60, sv.getInt32(srcOff + 60, true) ^ (x15 + j15), true);
  }
}

/**
 * XORs `len` bytes of `src` with the keystream starting at keystream byte `pos` into `dst`
 * (`src` and `dst` may be the same bytes at the same offsets).
 */
export function keystreamXor(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number, pos: number): void {
  const ks = keystreamBlock;
  while (len > 0) {
    const index = Math.floor(pos / 64);
    const start = pos & 63;
    if (start === 0 && len >= 64) {
      // A run of whole blocks: generated in registers and XORed a word at a time (xorBlocks).
      const count = Math.floor(len / 64);
      xorBlocks(src, srcOff, dst, dstOff, index, count);
      srcOff += 64 * count;
      dstOff += 64 * count;
      pos += 64 * count;
      len -= 64 * count;
      continue;
    }
    if (index !== blockIndex) loadBlock(index);
    const n = Math.min(64 - start, len);
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]! ^ ks[start + i]!;
    srcOff += n;
    dstOff += n;
    pos += n;
    len -= n;
  }
}

/** Wipes the keystream scratch so no key material outlives the box that used it. */
export function keystreamEnd(): void {
  // Element stores: cheaper than a fill() call for 16 words, and this runs once per box.
  block[0] = 0; block[1] = 0; block[2] = 0; block[3] = 0; block[4] = 0; block[5] = 0; block[6] = 0; block[7] = 0;
  block[8] = 0; block[9] = 0; block[10] = 0; block[11] = 0; block[12] = 0; block[13] = 0; block[14] = 0; block[15] = 0;
  blockIndex = -1;
  streamKey = block;
  streamN0 = 0;
  streamN1 = 0;
}
