/**
 * ZMTP 3.1 frame header layout (RFC 37 §"Framing"): `flags:u8` then the size as `u8` (short) or
 * `u64be` (LONG), then the body.
 */

/** Another frame of the same message follows. */
export const FLAG_MORE = 0x01;
import { newBytes } from './bytes.js';
/** The size field is 8 bytes; libzmq sets it only when the body exceeds 255 bytes. */
export const FLAG_LONG = 0x02;
/** The frame is a ZMTP command, not message data. */
export const FLAG_COMMAND = 0x04;
/** Bits 3–7 are reserved and must be zero. */
export const FLAG_RESERVED = 0xf8;

/** Bytes the header of a frame with a body of `size` bytes takes (2 or 9). */
export function frameHeaderLength(size: number): number {
  return size > 255 ? 9 : 2;
}

/**
 * Writes a frame header for a body of `size` bytes at `offset`, setting LONG only when needed,
 * and returns the header length.
 */
export function writeFrameHeader(buf: Uint8Array, offset: number, flags: number, size: number): number {
  if (size > 255) {
    buf[offset] = flags | FLAG_LONG;
    // u64be: sizes stay below 2^53, so the high word fits a double exactly.
    const hi = Math.floor(size / 0x1_0000_0000);
    const lo = size >>> 0;
    buf[offset + 1] = hi >>> 24;
    buf[offset + 2] = (hi >>> 16) & 0xff;
    buf[offset + 3] = (hi >>> 8) & 0xff;
    buf[offset + 4] = hi & 0xff;
    buf[offset + 5] = lo >>> 24;
    buf[offset + 6] = (lo >>> 16) & 0xff;
    buf[offset + 7] = (lo >>> 8) & 0xff;
    buf[offset + 8] = lo & 0xff;
    return 9;
  }
  buf[offset] = flags;
  buf[offset + 1] = size;
  return 2;
}

/** A fresh header buffer for a body of `size` bytes. */
export function frameHeader(flags: number, size: number): Uint8Array {
  const h = newBytes(frameHeaderLength(size));
  writeFrameHeader(h, 0, flags, size);
  return h;
}
