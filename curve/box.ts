/**
 * NaCl crypto_box as CurveZMQ uses it (Box [M](A->B), defined in RFC 26 §"CurveZMQ Commands"):
 * X25519 + HSalsa20 → a 32-byte box key (crypto_box_beforenm), then XSalsa20-Poly1305
 * (crypto_box_afternm, identical to crypto_secretbox) in libsodium's "easy" layout
 * `MAC(16) ‖ ciphertext`, which is what libzmq 4.3 puts on the wire.
 *
 * Two paths share one core:
 * - `seal`/`open` take a 24-byte nonce and derive the XSalsa20 subkey per call (handshake boxes;
 *   inside the WebAssembly kernel for boxes it takes);
 * - {@link PrefixedBox} serves MESSAGE, whose nonces are a fixed 16-byte prefix per direction
 *   ("CurveZMQMESSAGEC"/"…S") plus a u64 counter. XSalsa20 hashes only the first 16 nonce bytes
 *   into the subkey, so the subkey is computed once per connection and direction and each frame
 *   costs one Salsa20 stream and one Poly1305: at 64 bytes that measured about 6× the seal and 8×
 *   the open rate of @noble/ciphers' generic xsalsa20poly1305 (which derives the subkey per
 *   call). Output goes straight into the caller's buffer at an offset.
 */
import { polyFinish, polyInit, polyUpdate, polyVerify } from './poly1305.js';
import {
  bswap32,
  hsalsa20,
  keyWords,
  keystreamBegin,
  keystreamBlock,
  keystreamEnd,
  keystreamXor,
  readLE32,
} from './salsa20.js';
import { kernelOpen, kernelOpenKeyed, kernelSeal, kernelSealKeyed, useKernel } from './box-kernel.js';
import { agree, assertKey, x25519, type X25519Public, type X25519Secret } from './keys.js';

/** Bytes the Poly1305 tag adds to every box. */
export const MAC_BYTES = 16;
/** Bytes of a crypto_box nonce. */
export const NONCE_BYTES = 24;
/** Bytes of a precomputed box key. */
export const BOX_KEY_BYTES = 32;

const ZERO16 = new Uint8Array(16);
const words = new Uint32Array(8);
const subkey = new Uint32Array(8);

/**
 * Seals `lead ‖ msg[msgOff, +len)` (`lead` a byte, or −1 for none: MESSAGE puts its flags there)
 * under the XSalsa20 subkey `sub` and nonce words (`n0`, `n1`): the tag goes to
 * `out[macOff, +16)`, the ciphertext right after it. `msg` and the ciphertext range may be the
 * very same bytes (in-place), but must not otherwise overlap. Boxes from KERNEL_MIN_BYTES on go
 * through the WebAssembly kernel (box-kernel.ts) when it loads; the bytes are the same either way.
 */
function sealCore(sub: Uint32Array, n0: number, n1: number, lead: number, msg: Uint8Array, msgOff: number, len: number, out: Uint8Array, macOff: number): void {
  if (useKernel(len)) return kernelSeal(sub, n0, n1, lead, msg, msgOff, len, out, macOff);
  keystreamBegin(sub, n0, n1);
  // Keystream bytes 0..31 are the Poly1305 one-time key; the plaintext is XORed from byte 32 on.
  polyInit(keystreamBlock, 0);
  let ct = macOff + MAC_BYTES;
  if (lead >= 0) out[ct++] = lead ^ keystreamBlock[32]!;
  keystreamXor(msg, msgOff, out, ct, len, lead >= 0 ? 33 : 32);
  polyUpdate(out, macOff + MAC_BYTES, lead >= 0 ? len + 1 : len);
  polyFinish(out, macOff);
  keystreamEnd();
}

/**
 * Verifies the box of `len` ciphertext bytes at `src[macOff + 16]` and, only if the tag matches,
 * writes the plaintext to `dst` at `dstOff` — with `flagged`, all but plaintext byte 0, which is
 * returned instead. Returns −1, writing nothing, when the tag does not match, else 0 (or byte 0).
 */
function openCore(sub: Uint32Array, n0: number, n1: number, flagged: boolean, src: Uint8Array, macOff: number, len: number, dst: Uint8Array, dstOff: number): number {
  if (useKernel(len)) return kernelOpen(sub, n0, n1, flagged, src, macOff, len, dst, dstOff);
  keystreamBegin(sub, n0, n1);
  polyInit(keystreamBlock, 0);
  let ct = macOff + MAC_BYTES;
  polyUpdate(src, ct, len);
  let result = -1;
  if (polyVerify(src, macOff)) {
    result = 0;
    if (flagged) {
      result = src[ct++]! ^ keystreamBlock[32]!;
      keystreamXor(src, ct, dst, dstOff, len - 1, 33);
    } else {
      keystreamXor(src, ct, dst, dstOff, len, 32);
    }
  }
  keystreamEnd();
  return result;
}

function checkBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) throw new RangeError(`${name} must be ${length} bytes`);
}

/** HSalsa20(shared, 0¹⁶) serialised: the box key of a shared X25519 point (which it wipes). */
function boxKeyFromShared(shared: Uint8Array): Uint8Array {
  keyWords(shared, 0, words);
  shared.fill(0);
  hsalsa20(words, ZERO16, 0, subkey);
  const key = new Uint8Array(BOX_KEY_BYTES);
  for (let i = 0; i < 8; i++) {
    const w = subkey[i]!;
    key[4 * i] = w & 0xff;
    key[4 * i + 1] = (w >>> 8) & 0xff;
    key[4 * i + 2] = (w >>> 16) & 0xff;
    key[4 * i + 3] = w >>> 24;
  }
  words.fill(0);
  subkey.fill(0);
  return key;
}

/**
 * crypto_box_beforenm: the box key shared by `mySecret` and `theirPublic`,
 * HSalsa20(X25519(mySecret, theirPublic), 0¹⁶).
 * @throws TypeError / RangeError for keys that are not 32-byte Uint8Arrays;
 *   ZmtpError ERR_ZMTP_CURVE_KEY when `theirPublic` is a low-order point.
 */
export function beforenm(theirPublic: Uint8Array, mySecret: Uint8Array): Uint8Array {
  assertKey(theirPublic, 'theirPublic');
  assertKey(mySecret, 'mySecret');
  return boxKeyFromShared(x25519(mySecret, theirPublic));
}

/**
 * beforenm with a prepared secret (internal: the handshakes, which reuse imported keys).
 * @throws ZmtpError ERR_ZMTP_CURVE_KEY when `theirPublic` is a low-order point.
 */
export function boxKey(mySecret: X25519Secret, theirPublic: Uint8Array | X25519Public): Uint8Array {
  return boxKeyFromShared(agree(mySecret, theirPublic));
}

/** Derives the XSalsa20 subkey for `key` and the first 16 bytes of `nonce` into `subkey`. */
function deriveSubkey(key: Uint8Array, nonce: Uint8Array): void {
  keyWords(key, 0, words);
  hsalsa20(words, nonce, 0, subkey);
  wipe8(words);
}

/** Zeroes an 8-word scratch (element stores: cheaper than a fill() call, once per box). */
function wipe8(w: Uint32Array): void {
  w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 0; w[4] = 0; w[5] = 0; w[6] = 0; w[7] = 0;
}

/**
 * crypto_box_easy_afternm (= crypto_secretbox_easy): seals `message` under the precomputed `key`
 * and 24-byte `nonce` into `out` at `outOffset` as `MAC ‖ ciphertext` (message.length + 16 bytes),
 * allocating `out` when not given. `out` may not overlap `message`.
 * @returns `out`
 * @throws TypeError / RangeError for wrong argument types or lengths, or an `out` too small.
 */
export function seal(key: Uint8Array, nonce: Uint8Array, message: Uint8Array, out?: Uint8Array, outOffset = 0): Uint8Array {
  checkBytes(key, 'key', BOX_KEY_BYTES);
  checkBytes(nonce, 'nonce', NONCE_BYTES);
  checkBytes(message, 'message');
  const target = out ?? new Uint8Array(message.length + MAC_BYTES);
  checkBytes(target, 'out');
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + message.length + MAC_BYTES > target.length) {
    throw new RangeError('out is too small for the box at outOffset');
  }
  if (useKernel(message.length)) {
    // The kernel derives the subkey too: a 64-byte seal took ≈60 ns longer than one with its
    // subkey ready (PrefixedBox), where deriveSubkey here takes ≈200 ns.
    kernelSealKeyed(key, nonce, message, target, outOffset);
    return target;
  }
  deriveSubkey(key, nonce);
  sealCore(subkey, readLE32(nonce, 16), readLE32(nonce, 20), -1, message, 0, message.length, target, outOffset);
  wipe8(subkey);
  return target;
}

/**
 * crypto_box_open_easy_afternm (= crypto_secretbox_open_easy): opens `boxed` (`MAC ‖ ciphertext`)
 * into `out` at `outOffset` (allocated when not given).
 * @returns the plaintext array (`out` when given), or null when the box does not authenticate —
 *   a forged or corrupted box is an expected network event, so callers decide which error to raise.
 * @throws TypeError / RangeError for wrong argument types or lengths, or an `out` too small.
 */
export function open(key: Uint8Array, nonce: Uint8Array, boxed: Uint8Array, out?: Uint8Array, outOffset = 0): Uint8Array | null {
  checkBytes(key, 'key', BOX_KEY_BYTES);
  checkBytes(nonce, 'nonce', NONCE_BYTES);
  checkBytes(boxed, 'boxed');
  if (boxed.length < MAC_BYTES) return null;
  const len = boxed.length - MAC_BYTES;
  const target = out ?? new Uint8Array(len);
  checkBytes(target, 'out');
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + len > target.length) {
    throw new RangeError('out is too small for the plaintext at outOffset');
  }
  if (useKernel(len)) return kernelOpenKeyed(key, nonce, boxed, target, outOffset) ? target : null;
  deriveSubkey(key, nonce);
  const ok = openCore(subkey, readLE32(nonce, 16), readLE32(nonce, 20), false, boxed, 0, len, target, outOffset) === 0;
  wipe8(subkey);
  return ok ? target : null;
}

/**
 * A box key bound to one fixed 16-byte nonce prefix, for CurveZMQ MESSAGE (RFC 26 §"The MESSAGE
 * Command"): nonce = prefix ‖ u64be counter. The XSalsa20 subkey HSalsa20(key, prefix) is computed
 * once here; each frame then needs only the counter. Methods assume valid arguments: they sit on
 * the per-frame path behind the codec, which has already checked sizes.
 */
export class PrefixedBox {
  private readonly sub = new Uint32Array(8);

  /** `key` is a precomputed box key (32 bytes), `prefix` the 16 constant nonce bytes. */
  constructor(key: Uint8Array, prefix: Uint8Array) {
    checkBytes(key, 'key', BOX_KEY_BYTES);
    checkBytes(prefix, 'prefix', 16);
    keyWords(key, 0, words);
    hsalsa20(words, prefix, 0, this.sub);
    words.fill(0);
  }

  /**
   * Seals `flags ‖ payload` (the MESSAGE plaintext) with counter (`hi`, `lo`) straight into `out`:
   * the tag at `macOff`, the ciphertext from `macOff + 16` (payload.length + 17 bytes in all).
   */
  sealFlagged(hi: number, lo: number, flags: number, payload: Uint8Array, out: Uint8Array, macOff: number): void {
    // nonce bytes 16..23 are the big-endian counter; Salsa20 reads them as two little-endian words.
    sealCore(this.sub, bswap32(hi), bswap32(lo), flags, payload, 0, payload.length, out, macOff);
  }

  /**
   * Opens a MESSAGE box of `ctLen` ciphertext bytes (tag at `src[macOff]`): when the tag matches,
   * writes plaintext bytes 1.. to `dst` from 0 and returns plaintext byte 0 (the flags); returns
   * -1, writing nothing, when it does not.
   */
  openFlagged(hi: number, lo: number, src: Uint8Array, macOff: number, ctLen: number, dst: Uint8Array): number {
    return openCore(this.sub, bswap32(hi), bswap32(lo), true, src, macOff, ctLen, dst, 0);
  }

  /** Seals `len` bytes of `msg` from `msgOff` into `out` at `macOff` (tag ‖ ciphertext). */
  seal(hi: number, lo: number, msg: Uint8Array, msgOff: number, len: number, out: Uint8Array, macOff: number): void {
    sealCore(this.sub, bswap32(hi), bswap32(lo), -1, msg, msgOff, len, out, macOff);
  }

  /** Opens `len` ciphertext bytes boxed at `src[macOff]` into `dst` at `dstOff`; false on a bad tag. */
  open(hi: number, lo: number, src: Uint8Array, macOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    return openCore(this.sub, bswap32(hi), bswap32(lo), false, src, macOff, len, dst, dstOff) === 0;
  }

  /** Wipes the subkey. */
  destroy(): void {
    this.sub.fill(0);
  }
}
