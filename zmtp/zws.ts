/**
 * ZWS 2.0 (ZeroMQ RFC 45) under an unchanged ZMTP connection, runtime-neutral: the translation
 * between the ZMTP 3.1 byte stream the connection reads and writes and ZWS messages, one binary
 * WebSocket message per ZMTP frame, `flags ‖ body`, flags `0x01` MORE and `0x02` COMMAND (libzmq
 * `src/ws_encoder.cpp`, `src/ws_decoder.cpp`, `src/ws_protocol.hpp`). There is no greeting: the
 * subprotocol picks the mechanism (`ZWS2.0/NULL`, `ZWS2.0/CURVE`). Subclasses put the messages
 * on a WebSocket: ws-stream.ts on Node's `ws` (framing RFC 6455 itself), ws-browser.ts on the
 * browser's WebSocket.
 *
 * - In: each message becomes a synthesized frame header followed by the body as its own chunk (a
 *   view, never a copy); the greeting the connection waits for is synthesized from the mechanism.
 * - Out: our greeting is swallowed and the encoder's bytes are cut into frames, one message each.
 * - Bare `ZWS2.0` (NULL, no handshake: the first message each way is the routing id): the peer's
 *   routing id is turned into the READY the connection expects, so admission (and a listener's
 *   authentication hook) runs for it as for every other peer, and our READY is turned into our
 *   routing id. Messages after the peer's routing id wait until our READY has gone out, i.e. until
 *   the peer is admitted; a denial closes the WebSocket with 1008 (the peer has no ERROR command).
 *
 * Anything else — a text message, an empty one, reserved flag bits, an oversize message — ends
 * this connection with a typed error.
 */
import { EMPTY_BYTES, latin1Bytes, newBytes, readU64BE, zeroBytes } from './bytes.js';
import { commandData, encodeCommand, isCommand } from './command.js';
import { TypedEmitter } from './emitter.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, writeFrameHeader } from './frame.js';
import { GREETING_SIZE, encodeGreeting } from './greeting.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';
import type { ZmtpStream, ZmtpStreamEvents } from './stream.js';

/** ZWS flag bits (libzmq `src/ws_protocol.hpp`). */
const WS_MORE = 0x01;
const WS_COMMAND = 0x02;

/** The subprotocols of ZWS 2.0 we speak: libzmq's four forms (PLAIN aside). */
export const ZWS_NULL = 'ZWS2.0/NULL';
export const ZWS_CURVE = 'ZWS2.0/CURVE';
export const ZWS_BARE = 'ZWS2.0';
/**
 * Our extension: the same wire as `ZWS2.0/NULL` and `ZWS2.0/CURVE` under names a browser can
 * offer. RFC 6455 §4.1 wants subprotocols to be tokens (RFC 7230 §3.2.6), where '/' is a
 * separator and '+' is not, and browsers refuse the '/' forms, so without these a page could
 * never select CURVE.
 */
export const ZWS_NULL_TOKEN = 'ZWS2.0+NULL';
export const ZWS_CURVE_TOKEN = 'ZWS2.0+CURVE';

/** The ZMTP mechanism a subprotocol selects, or undefined for one we do not speak. */
export function subprotocolMechanism(protocol: string): 'NULL' | 'CURVE' | undefined {
  if (protocol === ZWS_NULL || protocol === ZWS_BARE || protocol === ZWS_NULL_TOKEN) return 'NULL';
  if (protocol === ZWS_CURVE || protocol === ZWS_CURVE_TOKEN) return 'CURVE';
  return undefined;
}

/** Construction parameters of a {@link ZwsStream}. */
export interface ZwsParams {
  /** The negotiated subprotocol (one that {@link subprotocolMechanism} knows). */
  protocol: string;
  /** Our socket type: the bare peer's READY is synthesized with a type compatible with it. */
  socketType: 'ROUTER' | 'DEALER';
  remoteAddress: string;
  /** Most bytes of a bare peer's messages held while it is being admitted. */
  holdLimit: number;
}

/** Scratch frame headers for {@link ZwsStream.frameIn}. */
const SHORT_HEAD = zeroBytes(2);
const LONG_HEAD = zeroBytes(9);

/** A ZMTP byte stream over one open ZWS 2.0 WebSocket; subclasses own the WebSocket. */
export abstract class ZwsStream extends TypedEmitter<ZmtpStreamEvents> implements ZmtpStream {
  readonly remoteAddress: string;
  /** The negotiated subprotocol. */
  readonly protocol: string;
  protected readonly bare: boolean;
  private readonly mechanism: 'NULL' | 'CURVE';
  private readonly peerSocketType: string;
  private readonly holdLimit: number;
  protected gone = false;
  private closeEmitted = false;

  // Outgoing: the ZMTP byte stream being cut into frames.
  private skip = GREETING_SIZE;
  private readonly head = zeroBytes(9);
  private headHave = 0;
  private headNeed = 2;
  /** Body bytes of the frame being sent still to come. */
  private bodyLeft = 0;
  /** A bare connection's command frame being collected (it is translated, not sent). */
  private capture: Uint8Array | null = null;
  private captureHave = 0;

  // Bare ZWS2.0 only.
  private peerIdSeen = false;
  private ourIdSent = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(p: ZwsParams) {
    super();
    const mechanism = subprotocolMechanism(p.protocol);
    if (mechanism === undefined) throw new RangeError('not a ZWS 2.0 subprotocol');
    this.protocol = p.protocol;
    this.mechanism = mechanism;
    this.bare = p.protocol === ZWS_BARE;
    this.peerSocketType = p.socketType === 'ROUTER' ? 'DEALER' : 'ROUTER';
    this.remoteAddress = p.remoteAddress;
    this.holdLimit = p.holdLimit;
  }

  /**
   * Starts the inbound side: the connection is listening now, so the greeting it waits for is
   * handed to it. Call once, right after constructing the connection on this stream.
   */
  start(): void {
    this.emit('data', encodeGreeting(this.mechanism));
  }

  get destroyed(): boolean {
    return this.gone;
  }

  abstract readonly writableLength: number;
  abstract cork(): void;
  abstract uncork(): void;
  abstract pause(): void;
  abstract resume(): void;
  abstract end(): void;
  abstract destroy(): void;
  /** True while the WebSocket may carry messages (no close frame sent or received). */
  protected abstract isOpen(): boolean;
  /** True while the caller should wait for 'drain'. */
  protected abstract backedUp(): boolean;
  /** Starts a message of `len` bytes (the flags byte included). */
  protected abstract messageHead(len: number): void;
  /** One byte of the message begun. */
  protected abstract bodyByte(b: number): void;
  /** `k` bytes of `chunk` from `at`, of the message begun. */
  protected abstract bodyOut(chunk: Uint8Array, at: number, k: number): void;
  /** A write begins: nothing built before it may go out with it. */
  protected beginOut(): void {}
  /** Hands what was built since the last flush to the WebSocket. */
  protected abstract flushOut(): void;
  /** Closes the WebSocket with a close frame. */
  protected abstract closeWith(code: number, reason: string): void;

  setNoDelay(): void {
    // The listener and the connector set it on the socket under the WebSocket.
  }

  /**
   * Takes ZMTP bytes from the encoder and sends each ZMTP frame as one binary WebSocket message:
   * what the encoder hands over in one write goes to the WebSocket in one flush.
   */
  write(chunk: Uint8Array): boolean {
    if (this.gone) return false;
    // After a close frame (ours or the peer's) nothing more may be sent.
    if (!this.isOpen()) return !this.backedUp();
    const n = chunk.length;
    let at = 0;
    if (this.skip > 0) {
      // Our greeting: ZWS has none.
      at = Math.min(this.skip, n);
      this.skip -= at;
    }
    this.beginOut();
    while (at < n && !this.gone) {
      if (this.bodyLeft > 0) {
        const k = Math.min(this.bodyLeft, n - at);
        this.body(chunk, at, k);
        at += k;
        this.bodyLeft -= k;
        if (this.bodyLeft === 0 && this.capture !== null) this.captured();
        continue;
      }
      const b = chunk[at++]!;
      this.head[this.headHave++] = b;
      if (this.headHave === 1) {
        this.headNeed = b & FLAG_LONG ? 9 : 2;
        continue;
      }
      if (this.headHave < this.headNeed) continue;
      const size = this.headNeed === 2 ? this.head[1]! : readU64BE(this.head, 1);
      const flags = this.head[0]!;
      this.headHave = 0;
      this.bodyLeft = size;
      if (this.bare && flags & FLAG_COMMAND) {
        this.capture = newBytes(size);
        this.captureHave = 0;
        if (size === 0) this.captured();
        continue;
      }
      this.messageHead(size + 1);
      this.bodyByte((flags & FLAG_MORE ? WS_MORE : 0) | (flags & FLAG_COMMAND ? WS_COMMAND : 0));
    }
    this.flushOut();
    return !this.backedUp();
  }

  /** `k` body bytes of the frame being sent: collected when it is a bare connection's command. */
  private body(chunk: Uint8Array, at: number, k: number): void {
    const capture = this.capture;
    if (capture !== null) {
      capture.set(chunk.subarray(at, at + k), this.captureHave);
      this.captureHave += k;
      return;
    }
    this.bodyOut(chunk, at, k);
  }

  /** A whole command frame of a bare ZWS2.0 connection has been collected. */
  private captured(): void {
    const body = this.capture!;
    this.capture = null;
    this.bareCommandOut(body);
  }

  /** Bare ZWS2.0 has no commands: our READY becomes our routing id, our ERROR a close. */
  private bareCommandOut(body: Uint8Array): void {
    if (isCommand(body, 'READY') && !this.ourIdSent) {
      const id = decodeMetadata(commandData(body)).get('identity') ?? EMPTY_BYTES;
      this.messageHead(1 + id.length);
      this.bodyByte(0);
      if (id.length > 0) this.bodyOut(id, 0, id.length);
      this.ourIdSent = true;
      // Hand what waited to the connection, but not from inside its own write.
      if (this.held.length > 0) queueMicrotask(this.release);
    } else if (isCommand(body, 'ERROR')) {
      this.flushOut();
      this.gone = true;
      this.closeWith(1008, 'denied');
    }
    // Anything else (a PONG to an in-band PING) has no form here and is dropped.
  }

  private readonly release = (): void => {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const m of held) {
      if (this.gone) return;
      this.deliver(m);
    }
  };

  /** A binary message from the peer. */
  protected received(msg: Uint8Array): void {
    if (this.gone) return;
    if (msg.length === 0) {
      this.fail(new ZmtpError(ZmtpErrorCode.WS_PROTOCOL, 'peer sent an empty WebSocket message (no ZWS flags byte)'));
      return;
    }
    if (msg[0]! & ~(WS_MORE | WS_COMMAND)) {
      this.fail(new ZmtpError(ZmtpErrorCode.RESERVED_FLAGS, 'ZWS message has reserved flag bits set'));
      return;
    }
    if (this.bare) {
      if (!this.peerIdSeen) {
        this.peerIdSeen = true;
        if (msg[0] !== 0) {
          this.fail(new ZmtpError(ZmtpErrorCode.WS_PROTOCOL, 'bare ZWS2.0 peer did not start with its routing id'));
          return;
        }
        const ready = encodeCommand('READY', encodeMetadata([['Socket-Type', latin1Bytes(this.peerSocketType)], ['Identity', msg.subarray(1)]]));
        this.frameIn(FLAG_COMMAND, ready);
        return;
      }
      if (!this.ourIdSent) {
        // The peer is being admitted: its messages wait, within a bound.
        this.held.push(msg);
        this.heldBytes += msg.length;
        if (this.heldBytes > this.holdLimit) {
          this.fail(new ZmtpError(ZmtpErrorCode.MESSAGE_TOO_LARGE, 'bare ZWS2.0 peer sent too much before it was admitted'));
        }
        return;
      }
    }
    this.deliver(msg);
  }

  /** A text message from the peer: ZWS 2.0 has none. */
  protected receivedText(): void {
    if (this.gone) return;
    this.fail(new ZmtpError(ZmtpErrorCode.WS_PROTOCOL, 'peer sent a text WebSocket message (ZWS 2.0 is binary only)'));
  }

  private deliver(msg: Uint8Array): void {
    const f = msg[0]!;
    this.frameIn((f & WS_MORE ? FLAG_MORE : 0) | (f & WS_COMMAND ? FLAG_COMMAND : 0), msg.subarray(1));
  }

  /**
   * Hands one frame to the connection: a synthesized header, then the body as its own chunk. The
   * header is written into a scratch buffer shared by every stream: the connection decodes it
   * synchronously and, since it is always a whole header, never keeps it (its decoder copies out
   * only a header in part).
   */
  private frameIn(flags: number, body: Uint8Array): void {
    const size = body.length;
    const head = size > 255 ? LONG_HEAD : SHORT_HEAD;
    writeFrameHeader(head, 0, flags, size);
    this.emit('data', head);
    if (body.length > 0 && !this.gone) this.emit('data', body);
  }

  /** A sign of life from the peer (a ping or pong): an empty chunk, counted by the heartbeat. */
  protected alive(): void {
    if (!this.gone) this.emit('data', EMPTY_BYTES);
  }

  protected fail(err: ZmtpError): void {
    this.emit('error', err);
    this.destroy();
  }

  /** The WebSocket closed: 'close' once. */
  protected closed(): void {
    this.gone = true;
    this.held = [];
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }
}
