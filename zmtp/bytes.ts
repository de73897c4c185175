/**
 * The byte helpers every layer needs, written once, for every runtime the package serves: bytes
 * are Uint8Arrays throughout, and where Node's Buffer exists (Node, Bun, Deno) it is used as the
 * faster implementation of the same operation, never required.
 *
 * - {@link newBytes} hands out Buffers under Node, so what a Node user receives (frame bodies,
 *   opened boxes, replies) keeps Buffer's methods, as before; in a browser it is a Uint8Array.
 * - Text: UTF-8 and latin1 in both directions, through Buffer's native codecs when present, else
 *   TextEncoder/TextDecoder (UTF-8) and a char-code loop (latin1).
 * - Map keys ({@link latin1Key}) and a plain equality test. None of these is constant-time:
 *   secrets are compared with curve's `equalBytes`.
 */

/** The part of Node's Buffer class used here, declared locally so no Node type leaks out. */
interface NodeBufferClass {
  allocUnsafe(size: number): Uint8Array;
  alloc(size: number): Uint8Array;
  from(data: string, encoding: 'utf8' | 'latin1' | 'hex' | 'base64'): Uint8Array;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
  byteLength(s: string, encoding: 'utf8'): number;
  isBuffer(x: unknown): boolean;
}
interface NodeBufferInstance {
  toString(encoding: 'utf8' | 'latin1' | 'hex' | 'base64', start?: number, end?: number): string;
  write(s: string, offset: number, length: number, encoding: 'utf8'): number;
}

/**
 * Node's Buffer where the runtime has one with the methods used here (Node, Bun, Deno), else
 * undefined (browsers).
 */
const NodeBuffer: NodeBufferClass | undefined = (() => {
  const b = (globalThis as { Buffer?: NodeBufferClass & { prototype?: Partial<NodeBufferInstance> } }).Buffer;
  return typeof b?.allocUnsafe === 'function' && typeof b.prototype?.write === 'function' ? b : undefined;
})();

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** A view over the same memory with Buffer's methods (Node only: callers check NodeBuffer). */
function nodeView(nb: NodeBufferClass, bytes: Uint8Array): NodeBufferInstance {
  return (nb.isBuffer(bytes) ? bytes : nb.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as unknown as NodeBufferInstance;
}

/** `n` bytes of new, uninitialised memory (write every byte): a Buffer under Node. */
export const newBytes: (n: number) => Uint8Array =
  NodeBuffer !== undefined ? (n) => NodeBuffer.allocUnsafe(n) : (n) => new Uint8Array(n);

/** `n` zero bytes in new memory (a Buffer under Node). */
export const zeroBytes: (n: number) => Uint8Array =
  NodeBuffer !== undefined ? (n) => NodeBuffer.alloc(n) : (n) => new Uint8Array(n);

/** An empty byte array. */
export const EMPTY_BYTES: Uint8Array = newBytes(0);

/** A copy of `bytes` in new memory (a Buffer under Node). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = newBytes(bytes.length);
  out.set(bytes);
  return out;
}

/** The UTF-8 encoding of `s` (a Buffer under Node). */
export const utf8Bytes: (s: string) => Uint8Array =
  NodeBuffer !== undefined ? (s) => NodeBuffer.from(s, 'utf8') : (s) => encoder.encode(s);

/** How many bytes the UTF-8 encoding of `s` has. */
export function utf8Length(s: string): number {
  if (NodeBuffer !== undefined) return NodeBuffer.byteLength(s, 'utf8');
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2; // 3 bytes (a lone surrogate becomes U+FFFD, also 3)
  }
  return n;
}

/** Writes the UTF-8 encoding of `s` into `out` at `at`; returns the bytes written (room must suffice). */
export function writeUtf8(s: string, out: Uint8Array, at: number): number {
  if (NodeBuffer !== undefined) return nodeView(NodeBuffer, out).write(s, at, out.length - at, 'utf8');
  return encoder.encodeInto(s, out.subarray(at)).written;
}

/** `bytes[start, end)` decoded as UTF-8 (invalid sequences become U+FFFD). */
export function utf8String(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end <= start) return '';
  if (NodeBuffer !== undefined) return nodeView(NodeBuffer, bytes).toString('utf8', start, end);
  return decoder.decode(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
}

/** The latin1 encoding of `s`: one byte per UTF-16 unit, its low 8 bits. */
export function latin1Bytes(s: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(s, 'latin1');
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Writes the latin1 encoding of `s` into `out` at `at`; returns `s.length`. */
export function writeLatin1(s: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  return s.length;
}

/** `bytes[start, end)` as latin1: one UTF-16 unit per byte. */
export function latin1String(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end <= start) return '';
  if (NodeBuffer !== undefined) return nodeView(NodeBuffer, bytes).toString('latin1', start, end);
  let s = '';
  // In slices, so the argument list of fromCharCode stays small.
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

/**
 * A string with one UTF-16 unit per byte (latin1): distinct byte strings give distinct keys, and
 * it is cheaper than hex. Use it to key Maps by routes, pubkeys and tags.
 */
export function latin1Key(bytes: Uint8Array): string {
  return latin1String(bytes);
}

/** The UTF-8 bytes of `s` as a {@link latin1Key}: how a registered name matches received bytes. */
export function utf8Key(s: string): string {
  return latin1String(utf8Bytes(s));
}

/** Orders byte strings as memcmp does, shorter first on a common prefix: −1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareRanges(a, 0, a.length, b, 0, b.length);
}

/** {@link compareBytes} of `a[a0, a1)` and `b[b0, b1)`, without making views. */
export function compareRanges(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const x = a[a0 + i]!;
    const y = b[b0 + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  const la = a1 - a0;
  const lb = b1 - b0;
  return la === lb ? 0 : la < lb ? -1 : 1;
}

const HEX = '0123456789abcdef';

/** Lower-case hex of `bytes`. */
export function hexString(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return nodeView(NodeBuffer, bytes).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!;
  return s;
}

/** The bytes of hex `s` (the caller has checked it: even length, hex digits only). */
export function hexBytes(s: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(s, 'hex');
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 of `bytes`, padded. */
export function base64String(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return nodeView(NodeBuffer, bytes).toString('base64');
  return btoa(latin1String(bytes));
}

/** True when `a` and `b` hold the same bytes (early exit: not for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The big-endian u32 at `bytes[at]`. */
export function readU32BE(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes `v` as a big-endian u32 at `bytes[at]`. */
export function writeU32BE(bytes: Uint8Array, v: number, at: number): void {
  bytes[at] = v >>> 24;
  bytes[at + 1] = v >>> 16;
  bytes[at + 2] = v >>> 8;
  bytes[at + 3] = v;
}

/** The big-endian u16 at `bytes[at]`. */
export function readU16BE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Writes `v` as a big-endian u16 at `bytes[at]`. */
export function writeU16BE(bytes: Uint8Array, v: number, at: number): void {
  bytes[at] = v >>> 8;
  bytes[at + 1] = v;
}

/** The big-endian u64 at `bytes[at]` as a number (exact below 2^53). */
export function readU64BE(bytes: Uint8Array, at: number): number {
  return readU32BE(bytes, at) * 0x1_0000_0000 + readU32BE(bytes, at + 4);
}

/** Writes `v` (an integer below 2^53) as a big-endian u64 at `bytes[at]`. */
export function writeU64BE(bytes: Uint8Array, v: number, at: number): void {
  writeU32BE(bytes, Math.floor(v / 0x1_0000_0000), at);
  writeU32BE(bytes, v >>> 0, at + 4);
}

/** Fills `out` with strong random bytes (the platform CSPRNG: Web Crypto, in every runtime). */
export function randomFill(out: Uint8Array): Uint8Array {
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < out.length; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(out.length, i + 65536)));
  return out;
}
