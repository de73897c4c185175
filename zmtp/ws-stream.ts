/**
 * ZWS 2.0 (ZeroMQ RFC 45) on Node: a {@link ZwsStream} over a WebSocket of the `ws` package, whose
 * outgoing messages this file frames itself (RFC 6455 §5.2) straight onto the socket under the
 * WebSocket, one socket write per batch.
 *
 * Heartbeats: libzmq's ws engine pings with WebSocket ping frames and answers only those
 * (`src/ws_engine.cpp`, `produce_ping_message`), so our PINGs go out as WebSocket pings, and a
 * ping or pong from the peer counts as traffic. An oversize message (ws's maxPayload) ends the
 * connection with ERR_ZMTP_FRAME_TOO_LARGE.
 */
import type { WebSocket } from 'ws';
import { randomFill, writeU16BE, writeU64BE, zeroBytes } from './bytes.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { ZwsStream, type ZwsParams } from './zws.js';

export { ZWS_BARE, ZWS_CURVE, ZWS_CURVE_TOKEN, ZWS_NULL, ZWS_NULL_TOKEN, subprotocolMechanism } from './zws.js';

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
export interface WsStreamParams extends ZwsParams {
  ws: WebSocket;
  raw: WsRawSocket;
  /** We opened the WebSocket (the client side), so what we send is masked. */
  masked: boolean;
}

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
  buf: new Uint8Array(0),
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
    randomFill(maskPool);
    maskPoolAt = 0;
  }
  dst.set(maskPool.subarray(maskPoolAt, maskPoolAt + 4), 0);
  maskPoolAt += 4;
}

/** A ZMTP byte stream over one open ZWS 2.0 WebSocket of the `ws` package. */
export class WsStream extends ZwsStream {
  private readonly ws: WebSocket;
  private readonly raw: WsRawSocket;
  /** We are the client: every message we send is masked (RFC 6455 §5.3). */
  private readonly masked: boolean;
  private readonly mask = zeroBytes(4);
  private maskAt = 0;

  constructor(p: WsStreamParams) {
    super(p);
    this.ws = p.ws;
    this.raw = p.raw;
    this.masked = p.masked;
    const ws = p.ws;
    ws.on('message', this.onMessage);
    ws.on('ping', this.onAlive);
    ws.on('pong', this.onAlive);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
    p.raw.on('drain', this.onDrain);
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

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** Heartbeats go out as WebSocket pings: libzmq's ws engine sends and answers only those. */
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

  protected isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  protected backedUp(): boolean {
    return this.raw.writableNeedDrain;
  }

  protected closeWith(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** The slab is shared: what another stream left unflushed is not ours to send. */
  protected override beginOut(): void {
    out.start = out.end;
  }

  /**
   * A binary message's header (RFC 6455 §5.2), built here so that what the encoder hands over in
   * one write goes out in one socket write (`ws.send` cost a write per header and per body, and
   * a buffer per message), with a fresh masking key when we are the client.
   */
  protected messageHead(len: number): void {
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
      writeU64BE(buf, len, at);
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

  protected bodyByte(b: number): void {
    const buf = this.room(1);
    buf[out.end++] = this.masked ? b ^ this.mask[this.maskAt++ & 3]! : b;
  }

  /** `k` body bytes of the frame being sent: copied (masked, on the client), or by reference when large. */
  protected bodyOut(chunk: Uint8Array, at: number, k: number): void {
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
      out.buf = new Uint8Array(out.words.buffer);
      out.start = out.end = 0;
    }
    return out.buf;
  }

  /** Writes what this stream has put in the output slab since the last flush. */
  protected flushOut(): void {
    if (out.end > out.start) this.raw.write(out.take());
  }

  private readonly onMessage = (data: Uint8Array | ArrayBuffer | Uint8Array[], isBinary: boolean): void => {
    if (!isBinary) this.receivedText();
    else this.received(data as Uint8Array); // binaryType 'nodebuffer'
  };

  private readonly onAlive = (): void => {
    this.alive();
  };

  private readonly onDrain = (): void => {
    this.emit('drain');
  };

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
    this.raw.off('drain', this.onDrain);
    this.closed();
  };
}
