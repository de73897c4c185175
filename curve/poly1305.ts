/**
 * Poly1305 one-time authenticator (D. J. Bernstein, "The Poly1305-AES message-authentication
 * code"; RFC 8439 §2.5 gives the same algorithm), the MAC half of crypto_box / crypto_secretbox.
 * Internal to curve/: one message is authenticated at a time through module-level state
 * (`polyInit` → `polyUpdate` once → `polyFinish`/`polyVerify`), which is wiped after every tag.
 *
 * Representation: the 130-bit accumulator and the clamped key `r` are ten 13-bit limbs held in
 * plain numbers. Limb products (< 2^14 · 5·2^13) summed ten at a time stay below 2^33, far inside
 * a double's exact 2^53, so the whole multiply is integer-exact floating-point arithmetic without
 * BigInt or 16-bit Math.imul juggling. 2^130 ≡ 5 (mod 2^130 − 5) folds the high half back in,
 * which is why the upper partial products use 5·r.
 */

const r = new Int32Array(10);
const h = new Int32Array(10);
const pad = new Uint16Array(8);
const tail = new Uint8Array(16);
const tag = new Uint8Array(16);
const g = new Int32Array(10);
const words = new Uint16Array(8);

/** Loads the 32-byte one-time key (r ‖ s) from `key` at `off` and clears the accumulator. */
export function polyInit(key: Uint8Array, off: number): void {
  // Clamp r as the spec requires: the top four bits of bytes 3, 7, 11, 15 and the bottom two bits
  // of bytes 4, 8, 12 are cleared, bounding r so the limb products above cannot overflow.
  for (let i = 0; i < 16; i++) tail[i] = key[off + i]!;
  tail[3]! &= 15; tail[7]! &= 15; tail[11]! &= 15; tail[15]! &= 15;
  tail[4]! &= 252; tail[8]! &= 252; tail[12]! &= 252;
  const t0 = tail[0]! | (tail[1]! << 8), t1 = tail[2]! | (tail[3]! << 8);
  const t2 = tail[4]! | (tail[5]! << 8), t3 = tail[6]! | (tail[7]! << 8);
  const t4 = tail[8]! | (tail[9]! << 8), t5 = tail[10]! | (tail[11]! << 8);
  const t6 = tail[12]! | (tail[13]! << 8), t7 = tail[14]! | (tail[15]! << 8);
  r[0] = t0 & 0x1fff;
  r[1] = ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
  r[2] = ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
  r[3] = ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
  r[4] = ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
  r[5] = (t4 >>> 1) & 0x1fff;
  r[6] = ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
  r[7] = ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
  r[8] = ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
  r[9] = t7 >>> 5;
  for (let i = 0; i < 8; i++) pad[i] = key[off + 16 + 2 * i]! | (key[off + 17 + 2 * i]! << 8);
  h.fill(0);
  tail.fill(0);
}

/**
 * Absorbs `n` 16-byte blocks of `m` from `off`; `hibit` is 1 for full message blocks (the 2^128
 * bit the spec appends) and 0 for the already padded final block.
 */
function blocks(m: Uint8Array, off: number, n: number, hibit: number): void {
  const r0 = r[0]!, r1 = r[1]!, r2 = r[2]!, r3 = r[3]!, r4 = r[4]!;
  const r5 = r[5]!, r6 = r[6]!, r7 = r[7]!, r8 = r[8]!, r9 = r[9]!;
  const s1 = 5 * r1, s2 = 5 * r2, s3 = 5 * r3, s4 = 5 * r4, s5 = 5 * r5;
  const s6 = 5 * r6, s7 = 5 * r7, s8 = 5 * r8, s9 = 5 * r9;
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!;
  let h5 = h[5]!, h6 = h[6]!, h7 = h[7]!, h8 = h[8]!, h9 = h[9]!;
  const top = hibit << 11; // bit 128 = bit 11 of limb 9 (9 · 13 = 117)
  for (let b = 0; b < n; b++, off += 16) {
    const t0 = m[off]! | (m[off + 1]! << 8), t1 = m[off + 2]! | (m[off + 3]! << 8);
    const t2 = m[off + 4]! | (m[off + 5]! << 8), t3 = m[off + 6]! | (m[off + 7]! << 8);
    const t4 = m[off + 8]! | (m[off + 9]! << 8), t5 = m[off + 10]! | (m[off + 11]! << 8);
    const t6 = m[off + 12]! | (m[off + 13]! << 8), t7 = m[off + 14]! | (m[off + 15]! << 8);
    h0 += t0 & 0x1fff;
    h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h5 += (t4 >>> 1) & 0x1fff;
    h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h9 += (t7 >>> 5) | top;
    // h · r mod 2^130 − 5, schoolbook over limbs; products above limb 9 wrap around times 5.
    let d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6 + h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7 + h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8 + h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9 + h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    let d6 = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    let d7 = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    let d8 = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    let d9 = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    // Carry chain. `d & 0x1fff` is exact for any non-negative integer below 2^53 (ToInt32 keeps
    // the low 32 bits), and `(d − low) / 8192` is an exact power-of-two division.
    let c: number;
    h0 = d0 & 0x1fff; c = (d0 - h0) / 8192;
    d1 += c; h1 = d1 & 0x1fff; c = (d1 - h1) / 8192;
    d2 += c; h2 = d2 & 0x1fff; c = (d2 - h2) / 8192;
    d3 += c; h3 = d3 & 0x1fff; c = (d3 - h3) / 8192;
    d4 += c; h4 = d4 & 0x1fff; c = (d4 - h4) / 8192;
    d5 += c; h5 = d5 & 0x1fff; c = (d5 - h5) / 8192;
    d6 += c; h6 = d6 & 0x1fff; c = (d6 - h6) / 8192;
    d7 += c; h7 = d7 & 0x1fff; c = (d7 - h7) / 8192;
    d8 += c; h8 = d8 & 0x1fff; c = (d8 - h8) / 8192;
    d9 += c; h9 = d9 & 0x1fff; c = (d9 - h9) / 8192;
    h0 += c * 5;
    c = h0 >>> 13;
    h0 &= 0x1fff;
    h1 += c;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
  h[5] = h5; h[6] = h6; h[7] = h7; h[8] = h8; h[9] = h9;
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
  // Three full carry passes leave every limb in 13 bits and the value below 2^130 (the partial
  // carry at the end of `blocks` may leave h1 a little over 13 bits).
  let c = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < 10; i++) {
      const v = h[i]! + c;
      h[i] = v & 0x1fff;
      c = v >>> 13;
    }
    h[0]! += c * 5;
    c = 0;
  }
  // g = h + 5 − 2^130: if it does not go negative, h ≥ p and g is the reduced value. The choice
  // is made with masks rather than a branch so timing does not depend on the accumulator.
  let carry = 5;
  for (let i = 0; i < 10; i++) {
    const v = h[i]! + carry;
    g[i] = v & 0x1fff;
    carry = v >>> 13;
  }
  // carry is 1 exactly when h + 5 ≥ 2^130, i.e. h ≥ p.
  const useG = -carry | 0; // all ones when h ≥ p
  const keepH = ~useG;
  for (let i = 0; i < 10; i++) h[i] = (h[i]! & keepH) | (g[i]! & useG);
  const h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!;
  const h5 = h[5]!, h6 = h[6]!, h7 = h[7]!, h8 = h[8]!, h9 = h[9]!;
  // The low 128 bits of h as eight 16-bit words, then + s mod 2^128.
  const w0 = (h0 | (h1 << 13)) & 0xffff;
  const w1 = ((h1 >>> 3) | (h2 << 10)) & 0xffff;
  const w2 = ((h2 >>> 6) | (h3 << 7)) & 0xffff;
  const w3 = ((h3 >>> 9) | (h4 << 4)) & 0xffff;
  const w4 = ((h4 >>> 12) | (h5 << 1) | (h6 << 14)) & 0xffff;
  const w5 = ((h6 >>> 2) | (h7 << 11)) & 0xffff;
  const w6 = ((h7 >>> 5) | (h8 << 8)) & 0xffff;
  const w7 = ((h8 >>> 8) | (h9 << 5)) & 0xffff;
  words[0] = w0; words[1] = w1; words[2] = w2; words[3] = w3;
  words[4] = w4; words[5] = w5; words[6] = w6; words[7] = w7;
  let s = 0;
  for (let i = 0; i < 8; i++) {
    s += words[i]! + pad[i]!;
    tag[2 * i] = s & 0xff;
    tag[2 * i + 1] = (s >>> 8) & 0xff;
    s >>>= 16;
  }
  r.fill(0);
  h.fill(0);
  g.fill(0);
  pad.fill(0);
  words.fill(0);
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
