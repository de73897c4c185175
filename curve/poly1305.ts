/**
 * Poly1305 one-time authenticator (D. J. Bernstein, "The Poly1305-AES message-authentication
 * code"; RFC 8439 §2.5 gives the same algorithm), the MAC half of crypto_box / crypto_secretbox.
 * Internal to curve/: one message is authenticated at a time through module-level state
 * (`polyInit` → `polyUpdate` once → `polyFinish`/`polyVerify`), which is wiped after every tag.
 *
 * Representation: the accumulator h and the clamped key r are six limbs of 22 bits (the top limb
 * of h holds 20 bits, bits 110..129) in plain numbers, multiplied as exact integer-valued doubles:
 * 36 multiplications per 16-byte block instead of the 100 that 13-bit limbs need, without BigInt
 * or 16-bit Math.imul juggling. Limb products that land at 2^132 or above wrap around times 20
 * (2^132 = 4 · 2^130 ≡ 4 · 5 mod p = 2^130 − 5), which is why the upper partial products use 20·r.
 *
 * Why every intermediate is an exact integer (a double holds integers exactly below 2^53):
 * - Clamping clears the top 4 bits of key bytes 3, 7, 11, 15, so r < 2^124: r0..r4 < 2^22 and
 *   r5 (bits 110..123) < 2^14; hence 20·r_j < 20 · 2^22 < 2^26.33.
 * - On entry to a block, h0, h2, h3, h4 < 2^22, h1 < 2^22 + 2^13 and h5 < 2^20 (see the carry
 *   below). A message block adds limbs < 2^22 (limb 5: 18 message bits plus the 2^128 bit at
 *   bit 18, so < 2^19), so every h_i < 2^23 and h5 < 2^21.
 * - Each of the six products in a column is < 2^23 · 20 · 2^22 = 20 · 2^45, so a column sum is
 *   < 120 · 2^45 < 2^51.91, and adding an incoming carry (< 2^30) keeps it below 2^52.
 * - Carrying: `d & MASK` goes through ToInt32, which reduces an integer-valued double exactly
 *   modulo 2^32, so it is d mod 2^22 for any d < 2^53; `(d − low) · 2^−22` is an exact integer
 *   (scaling by a power of two never rounds). Limbs 0..4 keep 22 bits, limb 5 keeps 20 bits (its
 *   carry is the part ≥ 2^130) and the carry c5 < 2^52 / 2^20 = 2^32 returns as 5·c5 < 2^34.33
 *   into h0; one more carry from h0 (< 2^22 + 2^34.33) adds < 2^12.33 + 1 ≤ 2^13 to h1, which is
 *   the entry bound above. h therefore stays below 2^130 + 2^45 between blocks, congruent to the
 *   true accumulator mod p; `finish` reduces it fully.
 */

const MASK22 = 0x3fffff;
const MASK20 = 0xfffff;
/** 2^−22, exact, so carries are a multiplication rather than a division. */
const INV22 = 1 / 4194304;
/** 2^−20. */
const INV20 = 1 / 1048576;

const r = new Int32Array(6);
const h = new Int32Array(6);
/** The pad s as four little-endian 32-bit words. */
const pad = new Uint32Array(4);
const tail = new Uint8Array(16);
const tag = new Uint8Array(16);

/** Reads a little-endian u32 as an int32 (callers mask or shift it, so the sign is irrelevant). */
function le32(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
}

/** Loads the 32-byte one-time key (r ‖ s) from `key` at `off` and clears the accumulator. */
export function polyInit(key: Uint8Array, off: number): void {
  // Clamp r as the spec requires: the top four bits of bytes 3, 7, 11, 15 and the bottom two bits
  // of bytes 4, 8, 12 are cleared; the first bounds r below 2^124, which the proof above needs.
  const w0 = le32(key, off) & 0x0fffffff;
  const w1 = le32(key, off + 4) & 0x0ffffffc;
  const w2 = le32(key, off + 8) & 0x0ffffffc;
  const w3 = le32(key, off + 12) & 0x0ffffffc;
  r[0] = w0 & MASK22;
  r[1] = ((w0 >>> 22) | (w1 << 10)) & MASK22;
  r[2] = ((w1 >>> 12) | (w2 << 20)) & MASK22;
  r[3] = (w2 >>> 2) & MASK22;
  r[4] = ((w2 >>> 24) | (w3 << 8)) & MASK22;
  r[5] = w3 >>> 14;
  for (let i = 0; i < 4; i++) pad[i] = le32(key, off + 16 + 4 * i);
  h.fill(0);
}

/**
 * Absorbs `n` 16-byte blocks of `m` from `off`; `hibit` is 1 for full message blocks (the 2^128
 * bit the spec appends) and 0 for the already padded final block.
 */
function blocks(m: Uint8Array, off: number, n: number, hibit: number): void {
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!;
  const s1 = 20 * r1, s2 = 20 * r2, s3 = 20 * r3, s4 = 20 * r4, s5 = 20 * r5;
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;
  const top = hibit << 18; // bit 128 = bit 18 of limb 5 (5 · 22 = 110)
  const end = off + 16 * n;
  while (off < end) {
    const w0 = m[off]! | (m[off + 1]! << 8) | (m[off + 2]! << 16) | (m[off + 3]! << 24);
    const w1 = m[off + 4]! | (m[off + 5]! << 8) | (m[off + 6]! << 16) | (m[off + 7]! << 24);
    const w2 = m[off + 8]! | (m[off + 9]! << 8) | (m[off + 10]! << 16) | (m[off + 11]! << 24);
    const w3 = m[off + 12]! | (m[off + 13]! << 8) | (m[off + 14]! << 16) | (m[off + 15]! << 24);
    off += 16;
    h0 += w0 & MASK22;
    h1 += ((w0 >>> 22) | (w1 << 10)) & MASK22;
    h2 += ((w1 >>> 12) | (w2 << 20)) & MASK22;
    h3 += (w2 >>> 2) & MASK22;
    h4 += ((w2 >>> 24) | (w3 << 8)) & MASK22;
    h5 += (w3 >>> 14) | top;
    // h · r mod 2^130 − 5, schoolbook over limbs; products at limb 6 and above wrap times 20.
    const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
    // Carry chain (exact: see the module header).
    h0 = d0 & MASK22;
    d1 += (d0 - h0) * INV22; h1 = d1 & MASK22;
    d2 += (d1 - h1) * INV22; h2 = d2 & MASK22;
    d3 += (d2 - h2) * INV22; h3 = d3 & MASK22;
    d4 += (d3 - h3) * INV22; h4 = d4 & MASK22;
    d5 += (d4 - h4) * INV22; h5 = d5 & MASK20;
    const c0 = h0 + (d5 - h5) * INV20 * 5;
    h0 = c0 & MASK22;
    h1 += (c0 - h0) * INV22;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5;
}

/** Absorbs the whole message `m[off, off + len)` (called once per tag). */
export function polyUpdate(m: Uint8Array, off: number, len: number): void {
  const full = len >>> 4;
  if (full > 0) blocks(m, off, full, 1);
  const rest = len & 15;
  if (rest > 0) {
    // The final partial block gets a 0x01 byte appended and zero padding, and no 2^128 bit.
    const start = off + (full << 4);
    for (let i = 0; i < rest; i++) tail[i] = m[start + i]!;
    tail[rest] = 1;
    for (let i = rest + 1; i < 16; i++) tail[i] = 0;
    blocks(tail, 0, 1, 0);
    tail.fill(0);
  }
}

/** Reduces the accumulator fully, adds s and leaves the 16-byte tag in `tag`; wipes the state. */
function finish(): void {
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;
  // Two full carry passes bring every limb into range (22 bits, 20 for h5), i.e. h < 2^130. On
  // entry only h1 may exceed its width (by < 2^13), so each pass carries at most 1 between limbs
  // and at most 5 back into h0. After pass one, h0 < 2^22 + 5 and h1 ≤ 2^22 at worst; pass two
  // can carry out of h5 only if h1..h5 all rolled over to 0, and then h0 + 5 spills at most 1
  // into h1 = 0 — so after it every limb is within its width.
  let c: number;
  for (let pass = 0; pass < 2; pass++) {
    c = h1 >>> 22; h1 &= MASK22; h2 += c;
    c = h2 >>> 22; h2 &= MASK22; h3 += c;
    c = h3 >>> 22; h3 &= MASK22; h4 += c;
    c = h4 >>> 22; h4 &= MASK22; h5 += c;
    c = h5 >>> 20; h5 &= MASK20; h0 += 5 * c;
    c = h0 >>> 22; h0 &= MASK22; h1 += c;
  }
  // g = h + 5 − 2^130: when h + 5 carries out of bit 130, h ≥ p and g is h − p, the reduced
  // value (h < 2^130 < 2p). The choice is made with masks rather than a branch so timing does
  // not depend on the accumulator.
  let g0 = h0 + 5;
  c = g0 >>> 22; g0 &= MASK22;
  let g1 = h1 + c; c = g1 >>> 22; g1 &= MASK22;
  let g2 = h2 + c; c = g2 >>> 22; g2 &= MASK22;
  let g3 = h3 + c; c = g3 >>> 22; g3 &= MASK22;
  let g4 = h4 + c; c = g4 >>> 22; g4 &= MASK22;
  let g5 = h5 + c; c = g5 >>> 20; g5 &= MASK20;
  const useG = -c | 0; // all ones when h ≥ p
  const keepH = ~useG;
  h0 = (h0 & keepH) | (g0 & useG);
  h1 = (h1 & keepH) | (g1 & useG);
  h2 = (h2 & keepH) | (g2 & useG);
  h3 = (h3 & keepH) | (g3 & useG);
  h4 = (h4 & keepH) | (g4 & useG);
  h5 = (h5 & keepH) | (g5 & useG);
  // The low 128 bits of h as four 32-bit words (bits 128, 129 of h5 drop out), then + s mod 2^128
  // with the carries done in doubles (each sum < 2^33, exact).
  let t = ((h0 | (h1 << 22)) >>> 0) + pad[0]!;
  let w = t >>> 0;
  tag[0] = w; tag[1] = w >>> 8; tag[2] = w >>> 16; tag[3] = w >>> 24;
  t = (((h1 >>> 10) | (h2 << 12)) >>> 0) + pad[1]! + (t - w) / 4294967296;
  w = t >>> 0;
  tag[4] = w; tag[5] = w >>> 8; tag[6] = w >>> 16; tag[7] = w >>> 24;
  t = (((h2 >>> 20) | (h3 << 2) | (h4 << 24)) >>> 0) + pad[2]! + (t - w) / 4294967296;
  w = t >>> 0;
  tag[8] = w; tag[9] = w >>> 8; tag[10] = w >>> 16; tag[11] = w >>> 24;
  t = (((h4 >>> 8) | (h5 << 14)) >>> 0) + pad[3]! + (t - w) / 4294967296;
  w = t >>> 0;
  tag[12] = w; tag[13] = w >>> 8; tag[14] = w >>> 16; tag[15] = w >>> 24;
  r.fill(0);
  h.fill(0);
  pad.fill(0);
}

/** Writes the tag of the absorbed message to `out` at `off` and wipes the state. */
export function polyFinish(out: Uint8Array, off: number): void {
  finish();
  for (let i = 0; i < 16; i++) out[off + i] = tag[i]!;
  tag.fill(0);
}

/**
 * Compares the tag of the absorbed message with `mac[off, off + 16)` in constant time (no early
 * exit, STYLE 8) and wipes the state.
 */
export function polyVerify(mac: Uint8Array, off: number): boolean {
  finish();
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= tag[i]! ^ mac[off + i]!;
  tag.fill(0);
  return diff === 0;
}
