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
 * Messages of 16 blocks or more are absorbed three blocks per step,
 * h ← (h + m1)·r³ + m2·r² + m3·r, which is the same polynomial evaluated with one carry chain per
 * three blocks (measured ≈1.7× the one-block loop on Node 20; r² and r³ are computed only then,
 * so short frames do not pay for them). That loop reads message words through a DataView, a
 * single unaligned load each in V8.
 *
 * Why every intermediate is an exact integer (a double holds integers exactly below 2^53):
 * - Clamping clears the top 4 bits of key bytes 3, 7, 11, 15, so r < 2^124: every limb of r is
 *   < 2^22 (r5, bits 110..123, < 2^14). The powers r², r³ are carried so every limb is < 2^22 too.
 *   Hence any key-side factor is < 20 · 2^22.
 * - Between blocks h0, h2, h3, h4 < 2^22, h5 < 2^20 and h1 < 2^22 + 2^14 (see the carry below). A
 *   message block adds limbs < 2^22 (limb 5: 18 message bits plus the 2^128 bit at bit 18), so
 *   on entry to a multiplication every h_i < 2^23 + 2^14 = 2^23 · (1 + 2^−9).
 * - One block: each of the six products in a column is < 2^23 · (1 + 2^−9) · 20 · 2^22, so a
 *   column sum is < 120.24 · 2^45 < 2^52. Three blocks: the h term adds the same, and each of the
 *   two bare message blocks (limbs < 2^22) adds six products < 2^22 · 20 · 2^22, i.e. 60 · 2^45
 *   each: a column is < 240.24 · 2^45 < 256 · 2^45 = 2^53. An incoming carry (< 2^31) fits in the
 *   remaining margin.
 * - Carrying uses only exact operations: scaling by 2^−22 never rounds, Math.floor of an exact
 *   value is exact, and d − c·2^22 is an exact integer in [0, 2^22). Limbs 0..4 keep 22 bits,
 *   limb 5 keeps 20 (its carry is the part ≥ 2^130 and returns times 5, since 2^130 ≡ 5): that
 *   carry is < 2^53 / 2^20 = 2^33, so h0 + 5c < 2^36, and one more carry adds < 2^14 to h1 — the
 *   between-blocks bound above. h stays congruent to the true accumulator mod p; `finish` reduces.
 */

const MASK22 = 0x3fffff;
const MASK20 = 0xfffff;
const TWO22 = 4194304;
const TWO20 = 1048576;
/** 2^−22 and 2^−20, exact, so carries are a multiplication rather than a division. */
const INV22 = 1 / TWO22;
const INV20 = 1 / TWO20;
/** Below this many blocks the one-block loop is used (computing r², r³ costs two multiplications). */
const MULTI_MIN_BLOCKS = 16;

const r = new Float64Array(6);
/** r² and r³ (valid while `powersReady`). */
const r2p = new Float64Array(6);
const r3p = new Float64Array(6);
let powersReady = false;
const h = new Float64Array(6);
/** The pad s as four little-endian 32-bit words. */
const pad = new Uint32Array(4);
const tail = new Uint8Array(16);
const tag32 = new Uint32Array(4);
const tag = new Uint8Array(tag32.buffer);

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
  powersReady = false;
  pad[0] = le32(key, off + 16);
  pad[1] = le32(key, off + 20);
  pad[2] = le32(key, off + 24);
  pad[3] = le32(key, off + 28);
  h[0] = 0; h[1] = 0; h[2] = 0; h[3] = 0; h[4] = 0; h[5] = 0;
}

/**
 * out = a·b mod p with every limb of out < 2^22 (for r² and r³; a, b within the block bounds).
 * The same schoolbook and carries as `blocks`, then the excess of limb 1 rippled up to limb 5.
 */
function mulKey(a: Float64Array, b: Float64Array, out: Float64Array): void {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!, a3 = a[3]!, a4 = a[4]!, a5 = a[5]!;
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!, b3 = b[3]!, b4 = b[4]!, b5 = b[5]!;
  const s1 = 20 * b1, s2 = 20 * b2, s3 = 20 * b3, s4 = 20 * b4, s5 = 20 * b5;
  const d0 = a0 * b0 + a1 * s5 + a2 * s4 + a3 * s3 + a4 * s2 + a5 * s1;
  let d1 = a0 * b1 + a1 * b0 + a2 * s5 + a3 * s4 + a4 * s3 + a5 * s2;
  let d2 = a0 * b2 + a1 * b1 + a2 * b0 + a3 * s5 + a4 * s4 + a5 * s3;
  let d3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + a4 * s5 + a5 * s4;
  let d4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0 + a5 * s5;
  let d5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  let c = Math.floor(d0 * INV22); let h0 = d0 - c * TWO22;
  d1 += c; c = Math.floor(d1 * INV22); let h1 = d1 - c * TWO22;
  d2 += c; c = Math.floor(d2 * INV22); let h2 = d2 - c * TWO22;
  d3 += c; c = Math.floor(d3 * INV22); let h3 = d3 - c * TWO22;
  d4 += c; c = Math.floor(d4 * INV22); let h4 = d4 - c * TWO22;
  d5 += c; c = Math.floor(d5 * INV20); let h5 = d5 - c * TWO20;
  h0 += 5 * c; c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
  // h1 < 2^22 + 2^14: ripple its excess (each step carries at most 1) into h5, which then is
  // at most 2^20 — a limb < 2^22 is all the bound needs, so no wrap back to h0.
  c = Math.floor(h1 * INV22); h1 -= c * TWO22; h2 += c;
  c = Math.floor(h2 * INV22); h2 -= c * TWO22; h3 += c;
  c = Math.floor(h3 * INV22); h3 -= c * TWO22; h4 += c;
  c = Math.floor(h4 * INV22); h4 -= c * TWO22; h5 += c;
  out[0] = h0; out[1] = h1; out[2] = h2; out[3] = h3; out[4] = h4; out[5] = h5;
}

/**
 * Absorbs the whole message `m[off, off + len)` in one pass over local limbs: full blocks with
 * the 2^128 bit the spec appends, then a final partial block padded with 0x01 and zeros, without
 * that bit.
 */
function blocks(m: Uint8Array, off: number, len: number): void {
  let n = len >>> 4;
  let rest = len & 15;
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!, r5 = r[5]!;
  const s1 = 20 * r1, s2 = 20 * r2, s3 = 20 * r3, s4 = 20 * r4, s5 = 20 * r5;
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;
  let top = 1 << 18; // bit 128 = bit 18 of limb 5 (5 · 22 = 110)
  let w0: number, w1: number, w2: number, w3: number, c: number;
  if (n >= MULTI_MIN_BLOCKS) {
    if (!powersReady) {
      mulKey(r, r, r2p);
      mulKey(r2p, r, r3p);
      powersReady = true;
    }
    // q = r², u = r³ and their wrapped multiples.
    const q0 = r2p[0]!, q1 = r2p[1]!, q2 = r2p[2]!, q3 = r2p[3]!, q4 = r2p[4]!, q5 = r2p[5]!;
    const t1 = 20 * q1, t2 = 20 * q2, t3 = 20 * q3, t4 = 20 * q4, t5 = 20 * q5;
    const u0 = r3p[0]!, u1 = r3p[1]!, u2 = r3p[2]!, u3 = r3p[3]!, u4 = r3p[4]!, u5 = r3p[5]!;
    const v1 = 20 * u1, v2 = 20 * u2, v3 = 20 * u3, v4 = 20 * u4, v5 = 20 * u5;
    const end3 = off + 48 * Math.floor(n / 3);
    const mv = new DataView(m.buffer, m.byteOffset, m.byteLength);
    n %= 3;
    while (off < end3) {
      // h += m1
      w0 = mv.getInt32(off, true);
      w1 = mv.getInt32(off + 4, true);
      w2 = mv.getInt32(off + 8, true);
      w3 = mv.getInt32(off + 12, true);
      h0 += w0 & MASK22;
      h1 += ((w0 >>> 22) | (w1 << 10)) & MASK22;
      h2 += ((w1 >>> 12) | (w2 << 20)) & MASK22;
      h3 += (w2 >>> 2) & MASK22;
      h4 += ((w2 >>> 24) | (w3 << 8)) & MASK22;
      h5 += (w3 >>> 14) | top;
      // a = m2
      w0 = mv.getInt32(off + 16, true);
      w1 = mv.getInt32(off + 20, true);
      w2 = mv.getInt32(off + 24, true);
      w3 = mv.getInt32(off + 28, true);
      const a0 = w0 & MASK22, a1 = ((w0 >>> 22) | (w1 << 10)) & MASK22, a2 = ((w1 >>> 12) | (w2 << 20)) & MASK22;
      const a3 = (w2 >>> 2) & MASK22, a4 = ((w2 >>> 24) | (w3 << 8)) & MASK22, a5 = (w3 >>> 14) | top;
      // b = m3
      w0 = mv.getInt32(off + 32, true);
      w1 = mv.getInt32(off + 36, true);
      w2 = mv.getInt32(off + 40, true);
      w3 = mv.getInt32(off + 44, true);
      off += 48;
      const b0 = w0 & MASK22, b1 = ((w0 >>> 22) | (w1 << 10)) & MASK22, b2 = ((w1 >>> 12) | (w2 << 20)) & MASK22;
      const b3 = (w2 >>> 2) & MASK22, b4 = ((w2 >>> 24) | (w3 << 8)) & MASK22, b5 = (w3 >>> 14) | top;
      // h·r³ + a·r² + b·r
      const d0 = h0 * u0 + h1 * v5 + h2 * v4 + h3 * v3 + h4 * v2 + h5 * v1
        + a0 * q0 + a1 * t5 + a2 * t4 + a3 * t3 + a4 * t2 + a5 * t1
        + b0 * r0 + b1 * s5 + b2 * s4 + b3 * s3 + b4 * s2 + b5 * s1;
      let d1 = h0 * u1 + h1 * u0 + h2 * v5 + h3 * v4 + h4 * v3 + h5 * v2
        + a0 * q1 + a1 * q0 + a2 * t5 + a3 * t4 + a4 * t3 + a5 * t2
        + b0 * r1 + b1 * r0 + b2 * s5 + b3 * s4 + b4 * s3 + b5 * s2;
      let d2 = h0 * u2 + h1 * u1 + h2 * u0 + h3 * v5 + h4 * v4 + h5 * v3
        + a0 * q2 + a1 * q1 + a2 * q0 + a3 * t5 + a4 * t4 + a5 * t3
        + b0 * r2 + b1 * r1 + b2 * r0 + b3 * s5 + b4 * s4 + b5 * s3;
      let d3 = h0 * u3 + h1 * u2 + h2 * u1 + h3 * u0 + h4 * v5 + h5 * v4
        + a0 * q3 + a1 * q2 + a2 * q1 + a3 * q0 + a4 * t5 + a5 * t4
        + b0 * r3 + b1 * r2 + b2 * r1 + b3 * r0 + b4 * s5 + b5 * s4;
      let d4 = h0 * u4 + h1 * u3 + h2 * u2 + h3 * u1 + h4 * u0 + h5 * v5
        + a0 * q4 + a1 * q3 + a2 * q2 + a3 * q1 + a4 * q0 + a5 * t5
        + b0 * r4 + b1 * r3 + b2 * r2 + b3 * r1 + b4 * r0 + b5 * s5;
      let d5 = h0 * u5 + h1 * u4 + h2 * u3 + h3 * u2 + h4 * u1 + h5 * u0
        + a0 * q5 + a1 * q4 + a2 * q3 + a3 * q2 + a4 * q1 + a5 * q0
        + b0 * r5 + b1 * r4 + b2 * r3 + b3 * r2 + b4 * r1 + b5 * r0;
      c = Math.floor(d0 * INV22); h0 = d0 - c * TWO22;
      d1 += c; c = Math.floor(d1 * INV22); h1 = d1 - c * TWO22;
      d2 += c; c = Math.floor(d2 * INV22); h2 = d2 - c * TWO22;
      d3 += c; c = Math.floor(d3 * INV22); h3 = d3 - c * TWO22;
      d4 += c; c = Math.floor(d4 * INV22); h4 = d4 - c * TWO22;
      d5 += c; c = Math.floor(d5 * INV20); h5 = d5 - c * TWO20;
      h0 += 5 * c; c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
    }
  }
  let end = off + 16 * n;
  let src = m;
  for (;;) {
    if (off >= end) {
      if (rest === 0) break;
      // The final partial block, padded in `tail` (not wiped: the MAC covers ciphertext, which
      // is public), goes through the same loop body once more.
      for (let i = 0; i < rest; i++) tail[i] = m[off + i]!;
      tail[rest] = 1;
      for (let i = rest + 1; i < 16; i++) tail[i] = 0;
      src = tail;
      off = 0;
      end = 16;
      rest = 0;
      top = 0;
    }
    w0 = src[off]! | (src[off + 1]! << 8) | (src[off + 2]! << 16) | (src[off + 3]! << 24);
    w1 = src[off + 4]! | (src[off + 5]! << 8) | (src[off + 6]! << 16) | (src[off + 7]! << 24);
    w2 = src[off + 8]! | (src[off + 9]! << 8) | (src[off + 10]! << 16) | (src[off + 11]! << 24);
    w3 = src[off + 12]! | (src[off + 13]! << 8) | (src[off + 14]! << 16) | (src[off + 15]! << 24);
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
    // Carry chain, all in doubles (exact: see the module header). Measured ≈1.5× faster in V8
    // than masking with `&`, which converts every limb between double and int32.
    c = Math.floor(d0 * INV22); h0 = d0 - c * TWO22;
    d1 += c; c = Math.floor(d1 * INV22); h1 = d1 - c * TWO22;
    d2 += c; c = Math.floor(d2 * INV22); h2 = d2 - c * TWO22;
    d3 += c; c = Math.floor(d3 * INV22); h3 = d3 - c * TWO22;
    d4 += c; c = Math.floor(d4 * INV22); h4 = d4 - c * TWO22;
    d5 += c; c = Math.floor(d5 * INV20); h5 = d5 - c * TWO20;
    h0 += 5 * c; c = Math.floor(h0 * INV22); h0 -= c * TWO22; h1 += c;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5;
}

/** Absorbs the whole message `m[off, off + len)` (called once per tag). */
export function polyUpdate(m: Uint8Array, off: number, len: number): void {
  if (len > 0) blocks(m, off, len);
}

/**
 * Reduces the accumulator fully, adds s and writes the 16-byte tag to `out` at `o`; wipes the
 * state (with element stores: a `fill` call per small array cost more than the stores).
 */
function finish(out: Uint8Array, o: number): void {
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!;
  // Two full carry passes bring every limb into range (22 bits, 20 for h5), i.e. h < 2^130. On
  // entry only h1 may exceed its width (by < 2^14), so each pass carries at most 1 between limbs
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
  out[o] = w; out[o + 1] = w >>> 8; out[o + 2] = w >>> 16; out[o + 3] = w >>> 24;
  t = (((h1 >>> 10) | (h2 << 12)) >>> 0) + pad[1]! + (t - w) / 4294967296;
  w = t >>> 0;
  out[o + 4] = w; out[o + 5] = w >>> 8; out[o + 6] = w >>> 16; out[o + 7] = w >>> 24;
  t = (((h2 >>> 20) | (h3 << 2) | (h4 << 24)) >>> 0) + pad[2]! + (t - w) / 4294967296;
  w = t >>> 0;
  out[o + 8] = w; out[o + 9] = w >>> 8; out[o + 10] = w >>> 16; out[o + 11] = w >>> 24;
  t = (((h4 >>> 8) | (h5 << 14)) >>> 0) + pad[3]! + (t - w) / 4294967296;
  w = t >>> 0;
  out[o + 12] = w; out[o + 13] = w >>> 8; out[o + 14] = w >>> 16; out[o + 15] = w >>> 24;
  r[0] = 0; r[1] = 0; r[2] = 0; r[3] = 0; r[4] = 0; r[5] = 0;
  if (powersReady) {
    r2p.fill(0);
    r3p.fill(0);
    powersReady = false;
  }
  h[0] = 0; h[1] = 0; h[2] = 0; h[3] = 0; h[4] = 0; h[5] = 0;
  pad[0] = 0; pad[1] = 0; pad[2] = 0; pad[3] = 0;
}

/** Writes the tag of the absorbed message to `out` at `off` and wipes the state. */
export function polyFinish(out: Uint8Array, off: number): void {
  finish(out, off);
}

/**
 * Compares the tag of the absorbed message with `mac[off, off + 16)` in constant time (no early
 * exit, so a forger learns nothing from how long a rejection takes) and wipes the state.
 */
export function polyVerify(mac: Uint8Array, off: number): boolean {
  finish(tag, 0);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= tag[i]! ^ mac[off + i]!;
  // The expected tag of a rejected box would let its sender complete the forgery: wiped.
  tag32[0] = 0; tag32[1] = 0; tag32[2] = 0; tag32[3] = 0;
  return diff === 0;
}
