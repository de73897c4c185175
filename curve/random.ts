/**
 * Random bytes for the handshakes (transient secrets, cookie keys, long-nonce suffixes), drawn
 * from the platform CSPRNG (Web Crypto's getRandomValues, in every runtime) in batches: a
 * handshake takes six small draws, and each call into the CSPRNG costs a few µs whether it fills
 * 16 bytes or 1 KiB. Every byte is handed out once and zeroed in the batch as it leaves, so no
 * value outlives its draw here.
 */
import { randomFill } from '../zmtp/index.js';

const BATCH = 1024;
const batch = new Uint8Array(BATCH);
let used = BATCH;

/** Fills `out[off, off + len)` with fresh random bytes. */
export function randomInto(out: Uint8Array, off: number, len: number): void {
  if (len > BATCH) {
    randomFill(out.subarray(off, off + len));
    return;
  }
  if (used + len > BATCH) {
    randomFill(batch);
    used = 0;
  }
  out.set(batch.subarray(used, used + len), off);
  batch.fill(0, used, used + len);
  used += len;
}

/** `len` fresh random bytes in a new array. */
export function randomBytes(len: number): Uint8Array {
  const out = new Uint8Array(len);
  randomInto(out, 0, len);
  return out;
}
