/**
 * Plumbing for the OxenMQ conformance specs (spec/lib/oxenmq-*.spec.ts): instances that are
 * closed after every test, raw ZMTP DEALER/ROUTER peers (NULL or CURVE) that show the exact
 * frames on the wire, a recording logger, and condition waits with deadlines.
 */
import { curveClient, curveServer, generateKeypair, type CurveKeypair } from '../../curve/index.js';
import { OxenMQ, type OxenMQOptions } from '../../lib/oxenmq.js';
import { toHex } from '../../lib/encoding.js';
import type { Logger } from '../../lib/logger.js';
import type { Socket } from 'node:net';
import { ZmtpConnection } from '../../zmtp/connection.js';
import { ZmtpDealer, type DealerOptions, type Peer, ZmtpRouter, type RouterOptions } from '../../zmtp/index.js';
import { waitFor } from './net.js';

export { waitFor };

/** The two transports every applicable item runs under. */
export type Mode = 'plain' | 'curve';
export const MODES: readonly Mode[] = ['plain', 'curve'];

/** Port of a `tcp://host:port` endpoint. */
export const portOf = (ep: string): number => Number(ep.split(':').at(-1));

/** A logger that keeps every line, for assertions on what was (not) logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; msg: string }[] = [];
  warn(msg: string): void {
    this.lines.push({ level: 'warn', msg });
  }
  error(msg: string): void {
    this.lines.push({ level: 'error', msg });
  }
  info(msg: string): void {
    this.lines.push({ level: 'info', msg });
  }
  debug(msg: string): void {
    this.lines.push({ level: 'debug', msg });
  }
  /** Lines at `level` (or any level) whose text contains `needle`. */
  matching(needle: string, level?: string): string[] {
    return this.lines.filter((l) => (level === undefined || l.level === level) && l.msg.includes(needle)).map((l) => l.msg);
  }
}

/** Resolves after `ms` of real time (only where real sockets must be given a chance). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Lets pending socket I/O and microtasks run (a few macrotask turns plus a short real pause). */
export async function settle(ms = 20): Promise<void> {
  await sleep(ms);
}

/** A raw peer's received message. */
export type Msg = Buffer[];
export const strs = (m: Msg): string[] => m.map((b) => b.toString('latin1'));

/** A raw DEALER (exact frames, no OxenMQ conventions) connected to an OxenMQ listener. */
export class RawDealer {
  readonly received: Msg[] = [];
  readonly dealer: ZmtpDealer;
  disconnects = 0;
  constructor(mode: Mode, endpoint: string, serverKey: Uint8Array | undefined, opts: DealerOptions & { keys?: CurveKeypair } = {}) {
    const keys = opts.keys ?? generateKeypair();
    this.keys = keys;
    const mechanism =
      mode === 'curve' ? curveClient({ serverKey: serverKey!, publicKey: keys.publicKey, secretKey: keys.secretKey }) : undefined;
    this.dealer = new ZmtpDealer({ heartbeatInterval: 0, reconnectInterval: 50, ...opts, mechanism });
    this.dealer.onMessage = (frames) => this.received.push(frames.map((f) => Buffer.from(f)));
    this.dealer.on('disconnect', () => this.disconnects++);
    this.dealer.connect(endpoint);
  }
  readonly keys: CurveKeypair;
  send(...parts: (string | Uint8Array)[]): void {
    this.dealer.send(parts);
  }
  /** The socket under the live connection, for tests that stop reading or watch raw bytes. */
  get socket(): Socket {
    const c = this.dealer.connection;
    if (!(c instanceof ZmtpConnection)) throw new Error('the dealer has no live connection');
    return c.socket;
  }
  /** Waits for the `n`-th message (1-based) and returns it. */
  async nth(n: number, what = `message #${n}`, timeoutMs = 3000): Promise<Msg> {
    await waitFor(() => this.received.length >= n, what, timeoutMs);
    return this.received[n - 1]!;
  }
  close(): Promise<void> {
    return this.dealer.close(0);
  }
}

/** A raw ROUTER (NULL or CURVE with its own keypair) standing in for a remote listener. */
export class RawRouter {
  readonly received: { route: Buffer; frames: Msg; conn: Peer }[] = [];
  readonly router: ZmtpRouter;
  readonly keys: CurveKeypair;
  readonly connects: Peer[] = [];
  readonly disconnects: Peer[] = [];
  endpoint = '';
  /** Answer `[HI]` with `[HELLO]` like an OxenMQ listener (off to hold a connect pending). */
  autoHello = true;
  constructor(
    readonly mode: Mode,
    opts: RouterOptions & { keys?: CurveKeypair } = {},
  ) {
    this.keys = opts.keys ?? generateKeypair();
    const mechanism = mode === 'curve' ? curveServer({ publicKey: this.keys.publicKey, secretKey: this.keys.secretKey }) : undefined;
    this.router = new ZmtpRouter({ heartbeatInterval: 0, ...opts, mechanism });
    this.router.onMessage = (frames, route, conn) => {
      const copy = frames.map((f) => Buffer.from(f));
      this.received.push({ route: Buffer.from(route), frames: copy, conn });
      if (this.autoHello && copy.length === 1 && copy[0]!.toString() === 'HI') this.router.send(route, ['HELLO']);
    };
    this.router.on('connect', (c) => this.connects.push(c));
    this.router.on('disconnect', (c) => this.disconnects.push(c));
  }
  async bind(): Promise<this> {
    this.endpoint = await this.router.bind('tcp://127.0.0.1:0');
    return this;
  }
  /** The address an OxenMQ client connects to: plain tcp:// or curve:// with our pubkey. */
  get address(): string {
    return this.mode === 'curve' ? `curve://127.0.0.1:${portOf(this.endpoint)}/${toHex(this.keys.publicKey)}` : this.endpoint;
  }
  async nth(n: number, what = `message #${n}`, timeoutMs = 3000): Promise<{ route: Buffer; frames: Msg; conn: Peer }> {
    await waitFor(() => this.received.length >= n, what, timeoutMs);
    return this.received[n - 1]!;
  }
  close(): Promise<void> {
    return this.router.close(0);
  }
}

/** Owns everything a test opens and closes it all in `afterEach`. */
export class Harness {
  private readonly closers: (() => Promise<unknown>)[] = [];

  /** A new (not started) OxenMQ with fast test defaults. */
  omq(opts: OxenMQOptions = {}): OxenMQ {
    const o = new OxenMQ({ connCheckInterval: 10, generalThreads: 2, ...opts });
    this.closers.push(() => o.close(0));
    return o;
  }

  /** A started OxenMQ with one listener of `mode` on 127.0.0.1; `setup` registers commands first. */
  async server(
    mode: Mode,
    setup: (o: OxenMQ) => void = () => {},
    opts: OxenMQOptions & { allow?: Parameters<OxenMQ['listenPlain']>[1] } = {},
  ): Promise<{ omq: OxenMQ; endpoint: string; address: string; port: number }> {
    const { allow, ...rest } = opts;
    const o = this.omq(rest);
    setup(o);
    const p = mode === 'curve' ? o.listenCurve('tcp://127.0.0.1:0', allow) : o.listenPlain('tcp://127.0.0.1:0', allow);
    await o.start();
    const endpoint = await p;
    const port = portOf(endpoint);
    const address = mode === 'curve' ? `curve://127.0.0.1:${port}/${toHex(o.pubkey)}` : endpoint;
    return { omq: o, endpoint, address, port };
  }

  /** A started client instance. */
  async client(opts: OxenMQOptions = {}, setup: (o: OxenMQ) => void = () => {}): Promise<OxenMQ> {
    const o = this.omq(opts);
    setup(o);
    await o.start();
    return o;
  }

  rawDealer(mode: Mode, endpoint: string, serverKey: Uint8Array | undefined, opts: DealerOptions & { keys?: CurveKeypair } = {}): RawDealer {
    const d = new RawDealer(mode, endpoint, serverKey, opts);
    this.closers.push(() => d.close());
    return d;
  }

  async rawRouter(mode: Mode, opts: RouterOptions & { keys?: CurveKeypair } = {}): Promise<RawRouter> {
    const r = new RawRouter(mode, opts);
    this.closers.push(() => r.close());
    return r.bind();
  }

  /** Registers any other cleanup. */
  defer(fn: () => Promise<unknown> | unknown): void {
    this.closers.push(async () => fn());
  }

  async closeAll(): Promise<void> {
    const fns = this.closers.splice(0).reverse();
    for (const f of fns) {
      try {
        await f();
      } catch {
        // a failed close must not hide the test's own failure
      }
    }
  }
}

/** Expects `p` to reject; returns the rejection. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
