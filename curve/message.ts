/**
 * The CurveZMQ MESSAGE codec (RFC 26 §"The MESSAGE Command"; as libzmq 4.3 frames it,
 * `src/curve_mechanism_base.cpp`): after the handshake every logical ZMTP frame, data or
 * command, travels boxed on its own:
 *
 *     wire flags 0x00 (0x02 LONG when the body exceeds 255 bytes)
 *     body = 07 "MESSAGE" ‖ nonce u64be ‖ Box[inner_flags ‖ payload](own' → peer',
 *            "CurveZMQMESSAGE" C|S ‖ nonce)
 *
 * The inner flags byte is not ZMTP's: RFC 26 defines bit 0 as MORE, and libzmq adds bit 1 for
 * COMMAND (ZMTP's COMMAND is 0x04), so the codec translates both ways. Multipart structure and
 * command-ness (e.g. heartbeat PING) exist only inside the box; the wire frame is never MORE or
 * COMMAND.
 *
 * Sealing writes the box straight into the wire frame at its offset, in a fresh buffer or in the
 * engine's output batch (encodeFrameInto): no copy of the payload. Opening decrypts in place:
 * the payload returned is a view of the received frame's own bytes, overwritten with the
 * plaintext, not a fresh buffer. Any failure — size, name, a nonce not strictly above the last
 * accepted one, a bad tag — throws ERR_ZMTP_CURVE_MESSAGE and leaves the codec failed for good,
 * as a failed decoder stays failed.
 */
import { FLAG_COMMAND, FLAG_MORE, type FrameCodec, frameHeaderLength, latin1Bytes, newBytes, writeFrameHeader, ZmtpError, ZmtpErrorCode } from '../zmtp/index.js';
import { MAC_BYTES, PrefixedBox } from './box.js';
import type { ReceiveNonce, SendNonce } from './nonce.js';

/** `07 "MESSAGE"`: the command name every boxed frame starts with. */
const MESSAGE_NAME = new Uint8Array(latin1Bytes('\x07MESSAGE'));
/** Name (8) + nonce (8) + MAC (16) + inner flags (1): a MESSAGE body is at least this long. */
export const MESSAGE_OVERHEAD = 33;

/** CurveZMQ inner flag: another frame of the same message follows. */
export const INNER_MORE = 0x01;
/** CurveZMQ inner flag: the frame is a ZMTP command (PING, PONG). */
export const INNER_COMMAND = 0x02;

/** Boxes and unboxes the frames of one connection after its CURVE handshake. */
export class MessageCodec implements FrameCodec {
  /** ZMTP flags (FLAG_MORE, FLAG_COMMAND) of the frame most recently decoded. */
  lastFlags = 0;
  private readonly sendBox: PrefixedBox;
  private readonly recvBox: PrefixedBox;
  private failed = false;

  /**
   * `key` is the transient box key (C'↔S', wiped by the caller afterwards); `sendPrefix` and
   * `recvPrefix` the MESSAGE nonce prefixes of our and the peer's direction; the nonce objects
   * continue the handshake's counters: libzmq keeps one short-nonce sequence per direction across
   * HELLO/INITIATE/READY and MESSAGE, and checks MESSAGE nonces against it
   * (`src/curve_mechanism_base.cpp`).
   */
  constructor(
    key: Uint8Array,
    sendPrefix: Uint8Array,
    recvPrefix: Uint8Array,
    private readonly sendNonce: SendNonce,
    private readonly recvNonce: ReceiveNonce,
  ) {
    this.sendBox = new PrefixedBox(key, sendPrefix);
    this.recvBox = new PrefixedBox(key, recvPrefix);
  }

  /** Name + nonce + MAC + inner flags: what a MESSAGE adds to each frame's payload. */
  readonly overhead = MESSAGE_OVERHEAD;

  /** Boxes one logical frame (`flags` are ZMTP flags) into a complete wire frame. */
  encodeFrame(flags: number, body: Uint8Array): Uint8Array {
    const size = MESSAGE_OVERHEAD + body.length;
    const out = newBytes(frameHeaderLength(size) + size);
    this.encodeFrameInto(flags, body, out, 0);
    return out;
  }

  /** Boxes one logical frame straight into `out` at `offset`; returns the bytes written. */
  encodeFrameInto(flags: number, body: Uint8Array, out: Uint8Array, offset: number): number {
    if (this.failed) throw new ZmtpError(ZmtpErrorCode.CURVE_MESSAGE, 'CURVE codec has failed or been destroyed');
    const inner = (flags & FLAG_MORE ? INNER_MORE : 0) | (flags & FLAG_COMMAND ? INNER_COMMAND : 0);
    const nonce = this.sendNonce.next();
    const size = MESSAGE_OVERHEAD + body.length;
    const hdr = offset + writeFrameHeader(out, offset, 0, size);
    out.set(MESSAGE_NAME, hdr);
    nonce.writeCounter(out, hdr + 8);
    this.sendBox.sealFlagged(nonce.hi, nonce.lo, inner, body, out, hdr + 16);
    return hdr - offset + size;
  }

  /**
   * Unboxes one wire frame body in place and returns its payload, a view of `body` (whose bytes
   * now hold the plaintext), and leaves the logical ZMTP flags in {@link MessageCodec.lastFlags}.
   * The wire flags are ignored, as libzmq 4.3 does: the sender never sets MORE or COMMAND on a
   * MESSAGE frame, and the engine has checked reserved bits.
   */
  decodeFrame(_wireFlags: number, body: Uint8Array): Uint8Array {
    if (this.failed) throw new ZmtpError(ZmtpErrorCode.CURVE_MESSAGE, 'CURVE codec has failed or been destroyed');
    if (body.length < MESSAGE_OVERHEAD || !hasMessageName(body)) {
      return this.fail('frame is not a CURVE MESSAGE of at least 33 bytes');
    }
    const nonce = this.recvNonce;
    if (!nonce.read(body, 8)) return this.fail('MESSAGE nonce is not strictly increasing');
    // Decrypt in place: the payload is handed up as a view of the frame's own bytes (a socket
    // chunk nobody else reads, or the decoder's private copy), so no allocation per frame.
    const out = body.subarray(MESSAGE_OVERHEAD);
    const inner = this.recvBox.openFlagged(nonce.hi, nonce.lo, body, 16, body.length - 16 - MAC_BYTES, out);
    if (inner < 0) return this.fail('MESSAGE box does not authenticate');
    nonce.commit();
    // Other inner bits are reserved; libzmq ignores them, and so do we for interop.
    this.lastFlags = (inner & INNER_MORE ? FLAG_MORE : 0) | (inner & INNER_COMMAND ? FLAG_COMMAND : 0);
    return out;
  }

  /** Wipes both direction subkeys; the codec refuses all further frames. */
  destroy(): void {
    this.failed = true;
    this.sendBox.destroy();
    this.recvBox.destroy();
  }

  private fail(message: string): never {
    this.failed = true;
    throw new ZmtpError(ZmtpErrorCode.CURVE_MESSAGE, message);
  }
}

function hasMessageName(body: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (body[i] !== MESSAGE_NAME[i]) return false;
  return true;
}
