/**
 * The WebAssembly SIMD kernel for the bulk of a box (curve/box-kernel.wat: Salsa20 four blocks at
 * a time in i32x4 lanes, Poly1305 in 26-bit i64 limbs, and for a box with a whole 24-byte nonce
 * its HSalsa20 subkey in scalar code), and the glue that moves a box through its fixed 64 KiB
 * memory. box.ts hands it boxes of {@link KERNEL_MIN_BYTES} or more; smaller ones
 * stay on the TypeScript path, where the copies into and out of the kernel's memory would cost
 * more than the SIMD saves.
 *
 * Loaded synchronously on first use (`new WebAssembly.Module` + `new WebAssembly.Instance` on
 * bytes built into the package), so it works the same in Node, Bun, Deno and browsers. When
 * WebAssembly or its SIMD is missing (the module does not compile), the environment variable
 * `OXENMQ_TS_WASM` is `0`, or {@link setKernelEnabled} turned it off, every box takes the
 * TypeScript path, which computes the same bytes. (WebAssembly memory is little-endian on every
 * host, and the glue writes it bytewise or through a little-endian DataView.)
 *
 * A box is processed in chunks of up to 65024 keystream bytes (the data area of the kernel's
 * memory), so memory never grows: chunk c holds keystream bytes [65024·c, 65024·(c + 1)), and the
 * message starts at keystream byte 32 (bytes 0..31 are the Poly1305 key). Opening verifies the
 * whole tag before any plaintext leaves the kernel; a box of more than one chunk therefore copies
 * its ciphertext in twice (MAC pass, then decrypt pass). Everything the kernel held for a box —
 * subkey, keystream, Poly1305 state, plaintext — is wiped before the call returns.
 */
import { KERNEL_BASE64 } from './box-kernel.generated.js';

/**
 * Boxes with at least this many message bytes use the kernel. Measured (Node 20, x64): the
 * TypeScript path wins up to 32 bytes, where one keystream block covers the Poly1305 key and the
 * whole message; from 33 bytes it needs a second block, and the kernel (four blocks per SIMD
 * pass, plus the copies in and out) is faster: ≈0.77 µs against ≈0.98 µs at 64 bytes.
 */
export const KERNEL_MIN_BYTES = 33;

/** Byte offsets in the kernel's memory (see the layout in box-kernel.wat). */
const TAG = 48;
const TAIL = 160;
const NONCE = 176;
const DATA = 512;
/** Keystream bytes per chunk: the data area, 1016 blocks. */
const CHUNK = 65024;
const CHUNK_BLOCKS = CHUNK / 64;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  stream(p: number, end: number, lo: number, hi: number, mp: number, mend: number, ahead: number): number;
  prime(): void;
  subkey(): void;
  head(end: number, mp: number, mend: number, ahead: number): number;
  absorb(p: number, len: number): void;
  finish(): void;
  wipe(end: number): void;
}

/** The subset of the WebAssembly JS API used here (not in the ES library typings). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let k: KernelExports | null = null;
let mem = new Uint8Array(0);
let view = new DataView(mem.buffer);
/** undefined: not tried yet; false: unavailable or disabled. */
let state: boolean | undefined;

function envDisabled(): boolean {
  const g = globalThis as {
    Deno?: { permissions?: { querySync?(d: { name: string; variable: string }): { state: string } } };
    process?: { env?: Record<string, string | undefined> };
  };
  try {
    // Deno asks for (or, with --no-prompt, refuses) env access; only look when already granted.
    const query = g.Deno?.permissions?.querySync;
    if (query && query.call(g.Deno!.permissions, { name: 'env', variable: 'OXENMQ_TS_WASM' }).state !== 'granted') return false;
    return g.process?.env?.OXENMQ_TS_WASM === '0';
  } catch {
    return false;
  }
}

function load(): boolean {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined || envDisabled()) return false;
  try {
    const bin = atob(KERNEL_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const exports = new wasm.Instance(new wasm.Module(bytes), {}).exports as KernelExports;
    k = exports;
    mem = new Uint8Array(exports.memory.buffer);
    view = new DataView(exports.memory.buffer);
    return true;
  } catch {
    // No SIMD (CompileError), or WebAssembly refused by policy: the TypeScript path serves.
    return false;
  }
}

/** Whether a box of `len` message bytes goes through the kernel (loading it on first ask). */
export function useKernel(len: number): boolean {
  if (len < KERNEL_MIN_BYTES) return false;
  if (state === undefined) state = load();
  return state;
}

/**
 * Turns the kernel off (`false`: every box takes the TypeScript path) or back on (`true`: used
 * again if it loads). Returns whether it is in use afterwards.
 */
export function setKernelEnabled(enabled: boolean): boolean {
  state = enabled ? k !== null || load() : false;
  return state;
}

/** The kernel's memory (empty before it loads): the spec checks that every box leaves it zeroed. */
export function kernelMemory(): Uint8Array {
  return mem;
}

function begin(sub: Uint32Array, n0: number, n1: number): void {
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, sub[i]!, true);
  view.setUint32(32, n0, true);
  view.setUint32(36, n1, true);
  k!.prime();
}

/** {@link begin} for a box key and a whole 24-byte nonce: the kernel derives the subkey. */
function beginKeyed(key: Uint8Array, nonce: Uint8Array): void {
  mem.set(key, 0);
  mem.set(nonce, NONCE);
  k!.subkey();
  k!.prime();
}

/** Bytes of the data area the current box has used (its wipe covers them). */
let used = 0;

/** Wipes the kernel's memory up to the end of the last 256-byte group the data reached. */
function end(): void {
  k!.wipe(DATA + Math.max(256, (used + 255) & ~255));
  used = 0;
}

/**
 * Seals under subkey `sub` and nonce words (`n0`, `n1`) the plaintext `lead ‖ msg[msgOff, +len)`
 * (`lead` a byte, or −1 for none): the tag to `out[macOff, +16)`, the ciphertext after it. `msg`
 * and the ciphertext range may be the very same bytes. Call only after {@link useKernel} is true.
 */
export function kernelSeal(sub: Uint32Array, n0: number, n1: number, lead: number, msg: Uint8Array, msgOff: number, len: number, out: Uint8Array, macOff: number): void {
  try {
    begin(sub, n0, n1);
    sealChunks(lead, msg, msgOff, len, out, macOff);
  } finally {
    // Also when a caller's array was too small and set() threw: nothing outlives the call.
    end();
  }
}

/**
 * crypto_secretbox of `msg` under the 32-byte box `key` and 24-byte `nonce`, the XSalsa20 subkey
 * derived inside the kernel: the tag to `out[macOff, +16)`, the ciphertext after it. Call only
 * after {@link useKernel} is true.
 */
export function kernelSealKeyed(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, out: Uint8Array, macOff: number): void {
  try {
    beginKeyed(key, nonce);
    sealChunks(-1, msg, 0, msg.length, out, macOff);
  } finally {
    end();
  }
}

/** The seal of a box whose stream {@link begin} or {@link beginKeyed} has primed. */
function sealChunks(lead: number, msg: Uint8Array, msgOff: number, len: number, out: Uint8Array, macOff: number): void {
  const total = lead >= 0 ? len + 1 : len;
  let n = Math.min(total, CHUNK - 32);
  let from = msgOff;
  if (lead >= 0) {
    mem[DATA + 32] = lead;
    mem.set(msg.subarray(from, from + n - 1), DATA + 33);
    from += n - 1;
  } else {
    mem.set(msg.subarray(from, from + n), DATA + 32);
    from += n;
  }
  used = 32 + n;
  // The XOR absorbs the ciphertext as it goes (sealing: each group's once the next is under way).
  let mp = k!.head(DATA + 32 + n, DATA + 32, DATA + 32 + (n & ~15), 0);
  k!.absorb(mp, DATA + 32 + n - mp);
  let to = macOff + 16;
  out.set(mem.subarray(DATA + 32, DATA + 32 + n), to);
  to += n;
  for (let done = n, block = CHUNK_BLOCKS; done < total; done += n, block += CHUNK_BLOCKS) {
    n = Math.min(total - done, CHUNK);
    used = CHUNK;
    mem.set(msg.subarray(from, from + n), DATA);
    mp = k!.stream(DATA, DATA + n, block, 0, DATA, DATA + (n & ~15), 0);
    k!.absorb(mp, DATA + n - mp);
    out.set(mem.subarray(DATA, DATA + n), to);
    from += n;
    to += n;
  }
  k!.finish();
  out.set(mem.subarray(TAG, TAG + 16), macOff);
}

/**
 * Opens the box whose tag is at `src[macOff]`, followed by `len` ciphertext bytes. Only when the
 * tag matches does it write plaintext to `dst` from `dstOff`: all of it (returning 0), or with
 * `flagged` all but byte 0, which it returns (the MESSAGE flags). Returns −1, writing nothing,
 * when the tag does not match. `dst` may be the ciphertext's own bytes (in place). Call only after
 * {@link useKernel} is true.
 */
export function kernelOpen(sub: Uint32Array, n0: number, n1: number, flagged: boolean, src: Uint8Array, macOff: number, len: number, dst: Uint8Array, dstOff: number): number {
  try {
    begin(sub, n0, n1);
    return openChunks(flagged, src, macOff, len, dst, dstOff);
  } finally {
    end();
  }
}

/**
 * crypto_secretbox_open of the box at `src[0]` (tag, then the rest) under the 32-byte box `key`
 * and 24-byte `nonce`, the subkey derived inside the kernel, into `dst` at `dstOff`: returns
 * false, writing nothing, when the tag does not match. Call only after {@link useKernel} is true.
 */
export function kernelOpenKeyed(key: Uint8Array, nonce: Uint8Array, src: Uint8Array, dst: Uint8Array, dstOff: number): boolean {
  try {
    beginKeyed(key, nonce);
    return openChunks(false, src, 0, src.length - 16, dst, dstOff) === 0;
  } finally {
    end();
  }
}

/** The open of a box whose stream {@link begin} or {@link beginKeyed} has primed. */
function openChunks(flagged: boolean, src: Uint8Array, macOff: number, len: number, dst: Uint8Array, dstOff: number): number {
  const ct = macOff + 16;
  const first = Math.min(len, CHUNK - 32);
  mem.set(src.subarray(ct, ct + first), DATA + 32);
  used = 32 + first;
  if (first === len) {
    // One chunk: MAC and decryption in one pass inside the kernel's memory; the plaintext leaves
    // it only once the tag has matched. The first group's ciphertext is absorbed before head()
    // overwrites it; the XOR of each later group absorbs that group's whole blocks first (20
    // slots for 16 blocks), but not a final partial block, whose ciphertext is set aside first.
    const pre = Math.min(len, 224);
    const whole = DATA + 32 + (len & ~15);
    mem.copyWithin(TAIL, whole, DATA + 32 + len);
    k!.absorb(DATA + 32, pre);
    if (len > pre) {
      k!.head(DATA + 32 + len, DATA + 32 + pre, whole, 256);
      k!.absorb(TAIL, len & 15);
    } else {
      k!.head(DATA + 32 + len, 0, 0, 0);
    }
  } else {
    // Several chunks: the MAC pass over all of them first, decryption after the tag has matched.
    k!.absorb(DATA + 32, first);
    for (let done = first, n = 0; done < len; done += n) {
      n = Math.min(len - done, CHUNK);
      used = CHUNK;
      mem.set(src.subarray(ct + done, ct + done + n), DATA);
      k!.absorb(DATA, n);
    }
  }
  k!.finish();
  // Constant-time comparison: no early exit.
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= mem[TAG + i]! ^ src[macOff + i]!;
  let result = -1;
  if (diff === 0) {
    if (first < len) {
      mem.set(src.subarray(ct, ct + first), DATA + 32);
      k!.head(DATA + 32 + first, 0, 0, 0);
    }
    let p = DATA + 32;
    let n = first;
    result = 0;
    if (flagged) {
      result = mem[p]!;
      p++;
      n--;
    }
    dst.set(mem.subarray(p, p + n), dstOff);
    let to = dstOff + n;
    for (let done = first, block = CHUNK_BLOCKS; done < len; done += n, block += CHUNK_BLOCKS) {
      n = Math.min(len - done, CHUNK);
      mem.set(src.subarray(ct + done, ct + done + n), DATA);
      k!.stream(DATA, DATA + n, block, 0, 0, 0, 0);
      dst.set(mem.subarray(DATA, DATA + n), to);
      to += n;
    }
  }
  return result;
}
