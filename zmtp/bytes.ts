/**
 * The few byte helpers every layer needs, written once: a Buffer view over any Uint8Array (so
 * Node's native encoders run without a copy), a map key that keeps every byte value distinct, and
 * a plain equality test. None of these is constant-time: secrets are compared with curve's
 * `equalBytes`.
 */

/** A Buffer over the same memory as `bytes` (no copy); `bytes` itself when it already is one. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A string with one UTF-16 unit per byte (latin1): distinct byte strings give distinct keys, and
 * it is cheaper than hex. Use it to key Maps by routes, pubkeys and tags.
 */
export function latin1Key(bytes: Uint8Array): string {
  return bytes.length === 0 ? '' : asBuffer(bytes).toString('latin1');
}

/** The UTF-8 bytes of `s` as a {@link latin1Key}: how a registered name matches received bytes. */
export function utf8Key(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** True when `a` and `b` hold the same bytes (early exit: not for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
