/** A CurveZMQ MESSAGE nonce: the 16-byte prefix, then the 64-bit counter `hi:lo`, big-endian. */
export function counterNonce(prefix: Uint8Array, hi: number, lo: number): Uint8Array {
  const n = new Uint8Array(24);
  n.set(prefix, 0);
  new DataView(n.buffer).setUint32(16, hi);
  new DataView(n.buffer).setUint32(20, lo);
  return n;
}
