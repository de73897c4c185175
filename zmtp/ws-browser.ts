/**
 * ZWS 2.0 (ZeroMQ RFC 45) in a browser: a {@link ZwsStream} over the platform's WebSocket, and
 * the connector that opens one for a DEALER. Nothing here needs Node.
 *
 * What the browser's WebSocket cannot do, and what stands in:
 * - Subprotocols with '/' are refused by browsers (a subprotocol must be an RFC 7230 token), so
 *   the defaults are our `ZWS2.0+CURVE` for CURVE and `ZWS2.0+NULL` then the bare `ZWS2.0` for
 *   NULL: an oxenmq-ts listener picks `ZWS2.0+NULL`, libzmq (which knows only its own names)
 *   the bare form.
 * - No ping frames from script: heartbeats go in-band as ZMTP PING commands, which oxenmq-ts
 *   listeners answer. A bare `ZWS2.0` connection has no commands at all, so there the
 *   connection's heartbeat is satisfied locally and liveness is the browser's own (it answers
 *   the server's WebSocket pings; a dead connection shows as a close).
 * - No pause: while the connection is paused (its input budget is full) messages wait here, in
 *   order, and are handed over on resume.
 * - No drain event: while more than {@link HIGH_WATER} bytes are buffered, writes report
 *   backpressure and `bufferedAmount` is polled until it falls under {@link LOW_WATER}.
 */
import type { Connector } from './connector.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { ZWS_BARE, ZWS_CURVE_TOKEN, ZWS_NULL_TOKEN, ZwsStream, subprotocolMechanism, type ZwsParams } from './zws.js';

/** Buffered bytes above which writes report backpressure. */
export const HIGH_WATER = 1024 * 1024;
/** Buffered bytes under which 'drain' fires again. */
export const LOW_WATER = 256 * 1024;
/** How often `bufferedAmount` is looked at while backed up. */
const POLL_MS = 10;

/** The part of the web platform's WebSocket used here. */
export interface BrowserWebSocket {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}
type WebSocketClass = new (url: string, protocols: string[]) => BrowserWebSocket;

/** A ZMTP byte stream over one open browser WebSocket. */
export class BrowserWsStream extends ZwsStream {
  /** Bare `ZWS2.0` only: the heartbeat's ping is answered at once (see the module header). */
  readonly ping?: () => void;
  private readonly ws: BrowserWebSocket;
  /** The message being built, and how much of it is filled. */
  private msg: Uint8Array | null = null;
  private msgAt = 0;
  private ready: Uint8Array[] = [];
  private paused = false;
  private waiting: Uint8Array[] = [];
  private poll: ReturnType<typeof setTimeout> | null = null;

  constructor(ws: BrowserWebSocket, p: ZwsParams) {
    super(p);
    this.ws = ws;
    if (this.bare) this.ping = () => queueMicrotask(() => this.alive());
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (typeof data === 'string') this.receivedText();
      else if (this.paused) this.waiting.push(new Uint8Array(data as ArrayBuffer));
      else this.received(new Uint8Array(data as ArrayBuffer));
    };
    ws.onerror = () => {
      if (!this.gone) this.emit('error', new ZmtpError(ZmtpErrorCode.TRANSPORT, 'WebSocket error'));
    };
    ws.onclose = () => this.finish();
  }

  get writableLength(): number {
    return this.ws.bufferedAmount;
  }

  cork(): void {}

  uncork(): void {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    while (this.waiting.length > 0 && !this.paused && !this.gone) this.received(this.waiting.shift()!);
  }

  /**
   * Closes the WebSocket and reports the stream closed without waiting for the peer's close
   * frame: a browser gives a script no way to abandon the closing handshake, and libzmq's ws
   * engine does not answer it, so waiting would hold the connection (and close()) open.
   */
  end(): void {
    this.destroy();
  }

  destroy(): void {
    if (this.gone && this.ws.readyState === 3) return;
    this.gone = true;
    this.ws.close(1000);
    queueMicrotask(this.finish);
  }

  private readonly finish = (): void => {
    if (this.poll !== null) clearTimeout(this.poll);
    this.poll = null;
    this.waiting = [];
    this.closed();
  };

  protected isOpen(): boolean {
    return this.ws.readyState === 1;
  }

  protected backedUp(): boolean {
    if (this.ws.bufferedAmount <= HIGH_WATER) return false;
    this.poll ??= setTimeout(this.check, POLL_MS);
    return true;
  }

  private readonly check = (): void => {
    this.poll = null;
    if (this.gone) return;
    if (this.ws.bufferedAmount < LOW_WATER) this.emit('drain');
    else this.poll = setTimeout(this.check, POLL_MS);
  };

  protected messageHead(len: number): void {
    this.msg = new Uint8Array(len);
    this.msgAt = 0;
  }

  protected bodyByte(b: number): void {
    this.msg![this.msgAt++] = b;
    this.complete();
  }

  protected bodyOut(chunk: Uint8Array, at: number, k: number): void {
    this.msg!.set(chunk.subarray(at, at + k), this.msgAt);
    this.msgAt += k;
    this.complete();
  }

  private complete(): void {
    if (this.msgAt < this.msg!.length) return;
    this.ready.push(this.msg!);
    this.msg = null;
  }

  protected flushOut(): void {
    const ready = this.ready;
    if (ready.length === 0) return;
    this.ready = [];
    for (const m of ready) this.ws.send(m);
  }

  protected closeWith(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}

/** The subprotocols a browser offers for a mechanism (see the module header). */
export function browserSubprotocols(mechanism: string): string[] {
  return mechanism === 'CURVE' ? [ZWS_CURVE_TOKEN] : [ZWS_NULL_TOKEN, ZWS_BARE];
}

/**
 * Opens ws:// and wss:// connections with the platform's WebSocket (`globalThis.WebSocket`, or
 * the class given); any other transport fails with ERR_ZMTP_BAD_ENDPOINT.
 */
export function browserConnector(WebSocketImpl?: WebSocketClass): Connector {
  return (p) => {
    const ep = p.endpoint;
    let done = false;
    let ws: BrowserWebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    /** Ends the attempt (once): stops the timer and closes the WebSocket, unheard. */
    const abandon = (): boolean => {
      if (done) return false;
      done = true;
      if (timer !== null) clearTimeout(timer);
      if (ws !== null) {
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
      }
      return true;
    };
    const fail = (err: ZmtpError) => {
      if (abandon()) p.failed(err);
    };
    const Ws = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (ep.transport !== 'ws' && ep.transport !== 'wss') {
      queueMicrotask(() => fail(new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `${ep.transport}:// is not available in a browser: use ws:// or wss://`)));
      return { destroy: () => void (done = true) };
    }
    if (Ws === undefined) {
      queueMicrotask(() => fail(new ZmtpError(ZmtpErrorCode.WS_UNAVAILABLE, 'this runtime has no WebSocket')));
      return { destroy: () => void (done = true) };
    }
    const offered = [...(p.subprotocols ?? browserSubprotocols(p.mechanism))];
    if (offered.some((s) => subprotocolMechanism(s) !== p.mechanism)) {
      queueMicrotask(() => fail(new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `a subprotocol offered does not select the ${p.mechanism} mechanism`)));
      return { destroy: () => void (done = true) };
    }
    const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
    try {
      ws = new Ws(`${ep.transport}://${host}:${ep.port}${ep.path}`, offered);
    } catch (err) {
      queueMicrotask(() => fail(new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `WebSocket refused the address: ${(err as Error).message}`, { cause: err })));
      return { destroy: () => void (done = true) };
    }
    ws.binaryType = 'arraybuffer';
    const o = p.options;
    if (o.handshakeTimeout > 0) {
      timer = setTimeout(() => fail(new ZmtpError(ZmtpErrorCode.HANDSHAKE_TIMEOUT, 'WebSocket did not open in time')), o.handshakeTimeout);
    }
    // A browser tells a script nothing about why a WebSocket failed (no status, no reason).
    ws.onerror = () => fail(new ZmtpError(ZmtpErrorCode.TRANSPORT, 'connect failed: the WebSocket could not be opened'));
    ws.onclose = () => fail(new ZmtpError(ZmtpErrorCode.TRANSPORT, 'connect failed: the WebSocket closed before it opened'));
    ws.onopen = () => {
      if (done) return;
      const open = ws!;
      const protocol = open.protocol;
      if (!offered.includes(protocol)) {
        fail(new ZmtpError(ZmtpErrorCode.WS_UPGRADE, 'server answered with no subprotocol we offered'));
        return;
      }
      done = true;
      if (timer !== null) clearTimeout(timer);
      open.onopen = null;
      const holdLimit = (o.maxMessageSize >= 0 ? o.maxMessageSize : 64 * 1024 * 1024) + 64 * 1024;
      p.open(new BrowserWsStream(open, { protocol, socketType: 'DEALER', remoteAddress: ep.host, holdLimit }), ep.host);
    };
    return { destroy: () => void abandon() };
  };
}
