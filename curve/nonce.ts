/**
 * CurveZMQ nonces (RFC 26 §"General Design", and their prefixes in §"High-level Grammar").
 *
 * Short nonces are a 16-byte ASCII prefix naming the command and direction plus a u64be counter
 * that each side increments for every box it sends: client HELLO = 1, INITIATE = 2, first MESSAGE
 * = 3; server READY = 1, first MESSAGE = 2. The receiver MUST reject a short nonce that is not
 * strictly greater than the last one it accepted from that peer, handshake commands included —
 * that is the whole replay defence of MESSAGE. Long nonces (WELCOME, cookie, vouch) are an 8-byte
 * prefix plus 16 random bytes.
 *
 * Counters are kept as two u32 halves so the full 64-bit range compares exactly without BigInt;
 * a 24-byte nonce buffer is preallocated and updated in place, never allocated per box.
 */
import { latin1Bytes, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';

function ascii(text: string): Uint8Array {
  return new Uint8Array(latin1Bytes(text));
}

/** Short-nonce prefix of the HELLO box (client → server). */
export const HELLO_PREFIX = ascii('CurveZMQHELLO---');
/** Short-nonce prefix of the INITIATE box (client → server). */
export const INITIATE_PREFIX = ascii('CurveZMQINITIATE');
/** Short-nonce prefix of the READY box (server → client). */
export const READY_PREFIX = ascii('CurveZMQREADY---');
/** Short-nonce prefix of MESSAGE boxes sent by the client. */
export const MESSAGE_CLIENT_PREFIX = ascii('CurveZMQMESSAGEC');
/** Short-nonce prefix of MESSAGE boxes sent by the server. */
export const MESSAGE_SERVER_PREFIX = ascii('CurveZMQMESSAGES');
/** Long-nonce prefix of the WELCOME box. */
export const WELCOME_PREFIX = ascii('WELCOME-');
/** Long-nonce prefix of the cookie box. */
export const COOKIE_PREFIX = ascii('COOKIE--');
/** Long-nonce prefix of the vouch box. */
export const VOUCH_PREFIX = ascii('VOUCH---');

/**
 * A sender's short-nonce counter and its 24-byte nonce, updated in place. One per direction per
 * connection: the prefix changes with the command, the counter never goes back.
 */
export class SendNonce {
  /** prefix ‖ u64be counter, ready to pass to `seal`. */
  readonly bytes = new Uint8Array(24);
  /** High and low 32 bits of the counter last issued by {@link SendNonce.next} (0 before). */
  hi = 0;
  lo = 0;

  /** Switches to a command's 16-byte prefix, keeping the counter. */
  setPrefix(prefix: Uint8Array): this {
    this.bytes.set(prefix, 0);
    return this;
  }

  /**
   * Advances the counter and writes it into {@link SendNonce.bytes}.
   * @throws ZmtpError ERR_ZMTP_CURVE_MESSAGE when the 64-bit counter would wrap (RFC 26: a nonce
   *   MUST never be reused under the same key).
   */
  next(): this {
    if (this.lo === 0xffffffff) {
      if (this.hi === 0xffffffff) throw new ZmtpError(ZmtpErrorCode.CURVE_MESSAGE, 'short nonce counter exhausted');
      this.hi = (this.hi + 1) >>> 0;
      this.lo = 0;
    } else {
      this.lo = (this.lo + 1) >>> 0;
    }
    this.writeCounter(this.bytes, 16);
    return this;
  }

  /** Writes the current counter as u64be at `buf[off]` (the short nonce on the wire). */
  writeCounter(buf: Uint8Array, off: number): void {
    const hi = this.hi, lo = this.lo;
    buf[off] = hi >>> 24;
    buf[off + 1] = (hi >>> 16) & 0xff;
    buf[off + 2] = (hi >>> 8) & 0xff;
    buf[off + 3] = hi & 0xff;
    buf[off + 4] = lo >>> 24;
    buf[off + 5] = (lo >>> 16) & 0xff;
    buf[off + 6] = (lo >>> 8) & 0xff;
    buf[off + 7] = lo & 0xff;
  }

  /** Wipes the nonce buffer (not secret, but it names the connection's traffic volume). */
  destroy(): void {
    this.bytes.fill(0);
  }
}

/**
 * A receiver's view of the peer's short nonces. `read` parses a candidate and says whether it is
 * fresh; `commit` accepts it once its box has authenticated, so a forged frame cannot advance the
 * window (it fails the connection anyway, but the order is the correct one).
 */
export class ReceiveNonce {
  /** The candidate from the last {@link ReceiveNonce.read}. */
  hi = 0;
  lo = 0;
  /** The last accepted nonce; nothing accepted yet when `seen` is false. */
  private lastHi = 0;
  private lastLo = 0;
  private seen = false;
  /** The 24-byte nonce (prefix ‖ candidate) for opening the box. */
  readonly bytes = new Uint8Array(24);

  /** Sets the peer's 16-byte prefix for the next box. */
  setPrefix(prefix: Uint8Array): this {
    this.bytes.set(prefix, 0);
    return this;
  }

  /**
   * Reads the u64be short nonce at `buf[off]` into {@link ReceiveNonce.bytes} and returns true when
   * it is strictly greater than the last accepted one (any value is fresh before the first).
   */
  read(buf: Uint8Array, off: number): boolean {
    const hi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
    const lo = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
    this.hi = hi;
    this.lo = lo;
    for (let i = 0; i < 8; i++) this.bytes[16 + i] = buf[off + i]!;
    if (!this.seen) return true;
    return hi > this.lastHi || (hi === this.lastHi && lo > this.lastLo);
  }

  /** Accepts the candidate of the last {@link ReceiveNonce.read} as the new floor. */
  commit(): void {
    this.lastHi = this.hi;
    this.lastLo = this.lo;
    this.seen = true;
  }
}

/** A long nonce: an 8-byte prefix then 16 bytes taken from `buf[off]` (WELCOME, cookie, vouch). */
export function longNonce(prefix: Uint8Array, buf: Uint8Array, off: number): Uint8Array {
  const nonce = new Uint8Array(24);
  nonce.set(prefix, 0);
  for (let i = 0; i < 16; i++) nonce[8 + i] = buf[off + i]!;
  return nonce;
}
