/**
 * A raw WebSocket peer for the ZWS 2.0 specs: offers any Sec-WebSocket-Protocol value (ws itself
 * refuses libzmq's `ZWS2.0/NULL`, whose '/' is not a token character), records every message,
 * ping and close, and sends exact bytes.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { waitFor } from './net.js';

/** What the peer saw. */
export interface RawWsLog {
  messages: { data: Buffer; binary: boolean }[];
  pings: number;
  close: { code: number; reason: string } | undefined;
  /** HTTP status of a refused upgrade. */
  status: number | undefined;
  protocol: string | undefined;
}

/** A raw client: `protocols` is the header value as sent (undefined: no header). */
export class RawWs {
  readonly log: RawWsLog = { messages: [], pings: 0, close: undefined, status: undefined, protocol: undefined };
  readonly ws: WebSocket;
  readonly opened: Promise<boolean>;

  constructor(url: string, protocols: string | undefined, opts: { origin?: string; autoPong?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (protocols !== undefined) headers['Sec-WebSocket-Protocol'] = protocols;
    this.ws = new WebSocket(url, [], { headers, origin: opts.origin, autoPong: opts.autoPong ?? true, perMessageDeflate: false });
    const ws = this.ws;
    ws.on('upgrade', (res) => {
      const p = res.headers['sec-websocket-protocol'];
      this.log.protocol = typeof p === 'string' ? p : undefined;
      delete res.headers['sec-websocket-protocol'];
    });
    ws.on('unexpected-response', (_req, res) => {
      this.log.status = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('message', (data: Buffer, binary) => this.log.messages.push({ data: Buffer.from(data), binary }));
    ws.on('ping', () => this.log.pings++);
    ws.on('error', () => {});
    ws.on('close', (code, reason) => (this.log.close = { code, reason: reason.toString() }));
    this.opened = new Promise((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
  }

  /** Sends one ZWS message: the flags byte then the body. */
  frame(flags: number, body: Uint8Array | string): void {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    this.ws.send(Buffer.concat([Buffer.from([flags]), b]));
  }

  /** Waits for the `n`-th message (1-based). */
  async nth(n: number): Promise<Buffer> {
    await waitFor(() => this.log.messages.length >= n, `ws message #${n}`);
    return this.log.messages[n - 1]!.data;
  }

  /** A WebSocket ping and its pong: the peer has read everything sent before it. */
  async roundTrip(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.ws.once('pong', () => resolve());
      this.ws.ping();
    });
  }

  async closed(): Promise<{ code: number; reason: string }> {
    await waitFor(() => this.log.close !== undefined, 'ws close');
    return this.log.close!;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Raw TCP to `port`: writes `bytes`, resolves with all it got back once the server closes. */
export function rawHttp(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    s.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    s.write(bytes);
  });
}
