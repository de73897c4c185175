/**
 * Bench message bodies that let the receiver prove nothing was lost, reordered or corrupted
 * without comparing whole payloads: the sequence number sits at both ends of the body (so a
 * truncated or shifted frame fails), and bodies shorter than 8 bytes carry its low byte(s).
 *
 * A fresh buffer per message on purpose: the engine may keep a reference to a queued body, so
 * rewriting one shared buffer would corrupt messages still in the queue (and is not what callers
 * do). The allocation costs every implementation the same.
 */

/** A `size`-byte body tagged with `seq`. */
export function makePayload(seq: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  tag(b, seq);
  return b;
}

/** Writes the tag of `seq` into `b` (whole body when short, both ends otherwise). */
function tag(b: Buffer, seq: number): void {
  const n = b.length;
  if (n >= 8) {
    b.writeUInt32LE(seq >>> 0, 0);
    b.writeUInt32LE(seq >>> 0, n - 4);
  } else {
    for (let i = 0; i < n; i++) b[i] = (seq + i) & 0xff;
  }
}

/** Whether `b` is a `size`-byte body tagged with `seq`. */
export function checkPayload(b: Uint8Array, seq: number, size: number): boolean {
  const n = b.length;
  if (n !== size) return false;
  if (n >= 8) {
    const s = seq >>> 0;
    const head = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const o = n - 4;
    const tail = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    return head === s && tail === s;
  }
  for (let i = 0; i < n; i++) if (b[i] !== ((seq + i) & 0xff)) return false;
  return true;
}

/** First frame of the two-frame end-of-stream marker (data messages always have one frame). */
export const END = Buffer.from('BENCH-END');
/** First frame of the sink's two-frame answer to END; the second is a JSON SinkReport. */
export const ACK = Buffer.from('BENCH-ACK');
