/**
 * ZWS 2.0 (ZeroMQ RFC 45) under an unchanged ZMTP connection: a {@link ZmtpStream} over a `ws`
 * WebSocket. The connection writes and reads the ZMTP 3.1 byte stream; this adapter translates.
 *
 * On the wire each ZMTP frame is one binary WebSocket message, `flags ‖ body`, flags `0x01` MORE
 * and `0x02` COMMAND (libzmq `src/ws_encoder.cpp`, `src/ws_decoder.cpp`, `src/ws_protocol.hpp`);
 * there is no greeting: the subprotocol picks the mechanism (`ZWS2.0/NULL`, `ZWS2.0/CURVE`).
 *
 * - In: each message becomes a synthesized frame header followed by the body as its own chunk (a
 *   view, never a copy); the greeting the connection waits for is synthesized from the mechanism.
 * - Out: our greeting is swallowed and the encoder's bytes are cut into frames, one message each.
 * - Heartbeats: libzmq's ws engine pings with WebSocket ping frames and answers only those
 *   (`src/ws_engine.cpp`, `produce_ping_message`), so our PINGs go out as WebSocket pings, and a
 *   ping or pong from the peer counts as traffic.
 * - Bare `ZWS2.0` (NULL, no handshake: the first message each way is the routing id): the peer's
 *   routing id is turned into the READY the connection expects, so admission (and a listener's
 *   authentication hook) runs for it as for every other peer, and our READY is turned into our
 *   routing id. Messages after the peer's routing id wait until our READY has gone out, i.e. until
 *   the peer is admitted; a denial closes the WebSocket with 1008 (the peer has no ERROR command).
 *
 * Anything else — a text message, an empty one, reserved flag bits, an oversize message (ws's
 * maxPayload) — ends this connection with a typed error.
 */
import { randomFillSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { commandData, encodeCommand, isCommand } from './command.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, writeFrameHeader } from './frame.js';
import { GREETING_SIZE, encodeGreeting } from './greeting.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';
import type { ZmtpStream, ZmtpStreamEvents } from './stream.js';
import { EMPTY_BYTES, latin1Bytes, newBytes, readU32BE, writeU16BE, writeU32BE, zeroBytes } from './bytes.js';

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

/** What the adapter needs of the TCP (or TLS) socket under the WebSocket. */
export interface WsRawSocket {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  readonly writableNeedDrain: boolean;
  on(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/** Construction parameters of a {@link WsStream}. */
export interface WsStreamParams {
  ws: WebSocket;
  raw: WsRawSocket;
  /** The negotiated subprotocol (one that {@link subprotocolMechanism} knows). */
  protocol: string;
  /** Our socket type: the bare peer's READY is synthesized with a type compatible with it. */
  socketType: 'ROUTER' | 'DEALER';
  remoteAddress: string;
  /** We opened the WebSocket (the client side), so what we send is masked. */
  masked: boolean;
  /** Most bytes of a bare peer's messages held while it is being admitted. */
  holdLimit: number;
}

const EMPTY = EMPTY_BYTES;
/** Scratch frame headers for {@link WsStream.frameIn}. */
const SHORT_HEAD = zeroBytes(2);
const LONG_HEAD = zeroBytes(9);
/** `ws`'s WebSocket.OPEN. */
const OPEN = 1;
/** Bodies larger than this go to the socket by reference (when not masked) instead of copied. */
const COPY_MAX = 1024;
/** Size of the output slab. */
const SLAB_BYTES = 64 * 1024;

/**
 * The slab every stream builds its messages in (as Node's Buffer pool and the encoder's batches
 * do): a stream fills `start..end` and hands it to its socket within one write(), and bytes handed
 * over are never written again, so streams share it safely and an idle one holds no buffer.
 */
const out = {
  buf: EMPTY_BYTES,
  /** `buf` as 32-bit words (it is 4-aligned), for masking. */
  words: new Uint32Array(0),
  start: 0,
  end: 0,
  take(): Uint8Array {
    const b = this.buf.subarray(this.start, this.end);
    this.start = this.end;
    return b;
  },
};

/** Masking keys come from a pool of strong random bytes (RFC 6455 §5.3), refilled when used up. */
const MASK_POOL = 8 * 1024;
const maskPool = zeroBytes(MASK_POOL);
let maskPoolAt = MASK_POOL;

const maskWord = new Uint32Array(1);
const maskWordBytes = new Uint8Array(maskWord.buffer);

/**
 * XORs `out.buf[from..to)` with the masking key, starting at key byte `j`: a word at a time where
 * aligned (the key rotated to that position; byte order is the platform's either way). Returns
 * the key position after `to`.
 */
function maskInPlace(from: number, to: number, mask: Uint8Array, j: number): number {
  const buf = out.buf;
  let p = from;
  while (p < to && (p & 3) !== 0) buf[p++]! ^= mask[j++ & 3]!;
  if (to - p >= 4) {
    for (let t = 0; t < 4; t++) maskWordBytes[t] = mask[(j + t) & 3]!;
    const w = maskWord[0]!;
    const words = out.words;
    const qe = to >> 2;
    for (let q = p >> 2; q < qe; q++) words[q]! ^= w;
    p = qe << 2;
  }
  while (p < to) buf[p++]! ^= mask[j++ & 3]!;
  return j & 3;
}

function maskingKey(dst: Uint8Array): void {
  if (maskPoolAt === MASK_POOL) {
    randomFillSync(maskPool);
    maskPoolAt = 0;
  }
  dst.set(maskPool.subarray(maskPoolAt, maskPoolAt + 4), 0);
  maskPoolAt += 4;
}

/** A ZMTP byte stream over one open ZWS 2.0 WebSocket. */
export class WsStream extends EventEmitter<ZmtpStreamEvents> implements ZmtpStream {
  readonly remoteAddress: string;
  /** The negotiated subprotocol. */
  readonly protocol: string;
  private readonly ws: WebSocket;
  private readonly raw: WsRawSocket;
  private readonly bare: boolean;
  private readonly mechanism: 'NULL' | 'CURVE';
  private readonly peerSocketType: string;
  private readonly holdLimit: number;
  private gone = false;
  private closeEmitted = false;

  // Outgoing: the ZMTP byte stream being cut into frames.
  private skip = GREETING_SIZE;
  private readonly head = zeroBytes(9);
  private headHave = 0;
  private headNeed = 2;
  /** Body bytes of the frame being sent still to come. */
  private bodyLeft = 0;
  /** We are the client: every message we send is masked (RFC 6455 §5.3). */
  private readonly masked: boolean;
  private readonly mask = zeroBytes(4);
  private maskAt = 0;
  /** A bare connection's command frame being collected (it is translated, not sent). */
  private capture: Uint8Array | null = null;
  private captureHave = 0;

  // Bare ZWS2.0 only.
  private peerIdSeen = false;
  private ourIdSent = false;
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(p: WsStreamParams) {
    super();
    const mechanism = subprotocolMechanism(p.protocol);
    if (mechanism === undefined) throw new RangeError('not a ZWS 2.0 subprotocol');
    this.ws = p.ws;
    this.raw = p.raw;
    this.protocol = p.protocol;
    this.mechanism = mechanism;
    this.bare = p.protocol === ZWS_BARE;
    this.peerSocketType = p.socketType === 'ROUTER' ? 'DEALER' : 'ROUTER';
    this.remoteAddress = p.remoteAddress;
    this.holdLimit = p.holdLimit;
    this.masked = p.masked;
    const ws = p.ws;
    ws.on('message', this.onMessage);
    ws.on('ping', this.onAlive);
    ws.on('pong', this.onAlive);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
    p.raw.on('drain', this.onDrain);
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

  /** Bytes written but not yet sent. */
  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  cork(): void {
    this.raw.cork();
  }

  uncork(): void {
    this.raw.uncork();
  }

  setNoDelay(): void {
    // The listener and the connector set it on the socket under the WebSocket.
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  ping(): void {
    if (!this.gone) this.ws.ping();
  }

  end(): void {
    if (this.gone) return;
    this.gone = true;
    this.ws.close(1000);
  }

  destroy(): void {
    if (this.gone && this.ws.readyState === this.ws.CLOSED) return;
    this.gone = true;
    this.ws.terminate();
  }

  /**
   * Takes ZMTP bytes from the encoder and frames each ZMTP frame as one binary WebSocket message,
   * built here (RFC 6455 §5.2) into one batch written to the socket under the WebSocket: what the
   * encoder hands over in one write goes out in one socket write, where `ws.send` cost a write
   * per header and per body (and a buffer per message).
   */
  write(chunk: Uint8Array): boolean {
    if (this.gone) return false;
    // After a close frame (ours or the peer's) nothing more may be sent.
    if (this.ws.readyState !== OPEN) return !this.raw.writableNeedDrain;
    const n = chunk.length;
    let at = 0;
    if (this.skip > 0) {
      // Our greeting: ZWS has none.
      at = Math.min(this.skip, n);
      this.skip -= at;
    }
    out.start = out.end;
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
      const size = this.headNeed === 2 ? this.head[1]! : readU32BE(this.head, 1) * 0x1_0000_0000 + readU32BE(this.head, 5);
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
    return !this.raw.writableNeedDrain;
  }

  /** A binary message's header (RFC 6455 §5.2), with a fresh masking key when we are the client. */
  private messageHead(len: number): void {
    const buf = this.room(14);
    let at = out.end;
    buf[at++] = 0x82; // FIN, binary
    const m = this.masked ? 0x80 : 0;
    if (len < 126) {
      buf[at++] = m | len;
    } else if (len <= 0xffff) {
      buf[at++] = m | 126;
      writeU16BE(buf, len, at);
      at += 2;
    } else {
      buf[at++] = m | 127;
      writeU32BE(buf, Math.floor(len / 0x1_0000_0000), at);
      writeU32BE(buf, len >>> 0, at + 4);
      at += 8;
    }
    if (this.masked) {
      maskingKey(this.mask);
      buf.set(this.mask, at);
      at += 4;
      this.maskAt = 0;
    }
    out.end = at;
  }

  private bodyByte(b: number): void {
    const buf = this.room(1);
    buf[out.end++] = this.masked ? b ^ this.mask[this.maskAt++ & 3]! : b;
  }

  /** `k` body bytes of the frame being sent: copied (masked, on the client), or by reference when large. */
  private body(chunk: Uint8Array, at: number, k: number): void {
    const capture = this.capture;
    if (capture !== null) {
      capture.set(chunk.subarray(at, at + k), this.captureHave);
      this.captureHave += k;
      return;
    }
    if (this.masked) {
      // Masking copies anyway; a large body goes out in slab-sized pieces.
      const mask = this.mask;
      let j = this.maskAt;
      let i = at;
      const e = at + k;
      while (i < e) {
        const buf = this.room(1);
        const o = out.end;
        const piece = Math.min(e - i, buf.length - o);
        buf.set(piece === chunk.length ? chunk : chunk.subarray(i, i + piece), o);
        j = maskInPlace(o, o + piece, mask, j);
        i += piece;
        out.end = o + piece;
      }
      this.maskAt = j;
    } else if (k > COPY_MAX) {
      this.flushOut();
      this.raw.write(k === chunk.length ? chunk : chunk.subarray(at, at + k));
    } else {
      const buf = this.room(k);
      buf.set(chunk.subarray(at, at + k), out.end);
      out.end += k;
    }
  }

  /** The output slab, with room for `n` (at most SLAB_BYTES) more bytes at its end. */
  private room(n: number): Uint8Array {
    if (out.end + n > out.buf.length) {
      this.flushOut();
      out.words = new Uint32Array(SLAB_BYTES / 4);
      out.buf = Buffer.from(out.words.buffer);
      out.start = out.end = 0;
    }
    return out.buf;
  }

  /** Writes what this stream has put in the output slab since the last flush. */
  private flushOut(): void {
    if (out.end > out.start) this.raw.write(out.take());
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
      const id = decodeMetadata(commandData(body)).get('identity') ?? EMPTY;
      this.messageHead(1 + id.length);
      this.bodyByte(0);
      this.body(id, 0, id.length);
      this.ourIdSent = true;
      // Hand what waited to the connection, but not from inside its own write.
      if (this.held.length > 0) queueMicrotask(this.release);
    } else if (isCommand(body, 'ERROR')) {
      this.flushOut();
      out.start = out.end;
      this.gone = true;
      this.ws.close(1008, 'denied');
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

  private readonly onMessage = (data: Uint8Array | ArrayBuffer | Uint8Array[], isBinary: boolean): void => {
    if (this.gone) return;
    if (!isBinary) {
      this.fail(new ZmtpError(ZmtpErrorCode.WS_PROTOCOL, 'peer sent a text WebSocket message (ZWS 2.0 is binary only)'));
      return;
    }
    const msg = data as Buffer; // binaryType 'nodebuffer'
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
  };

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

  private readonly onAlive = (): void => {
    // An empty chunk: counted as traffic by the heartbeat, nothing to decode.
    if (!this.gone) this.emit('data', EMPTY);
  };

  private readonly onDrain = (): void => {
    this.emit('drain');
  };

  private fail(err: ZmtpError): void {
    this.emit('error', err);
    this.destroy();
  }

  private readonly onError = (err: Error & { code?: string }): void => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.emit('error', new ZmtpError(ZmtpErrorCode.FRAME_TOO_LARGE, 'WebSocket message exceeds maxMessageSize', { cause: err }));
    } else if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) {
      this.emit('error', new ZmtpError(ZmtpErrorCode.WS_PROTOCOL, `WebSocket protocol error: ${err.code}`, { cause: err }));
    } else {
      this.emit('error', err);
    }
  };

  private readonly onClose = (): void => {
    this.gone = true;
    this.held = [];
    this.raw.off('drain', this.onDrain);
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  };
}
