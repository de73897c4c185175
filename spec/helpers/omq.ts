/**
 * Plumbing for the OxenMQ specs (spec/lib/oxenmq-*.spec.ts): instances that are closed after
 * every test, raw ZMTP DEALER/ROUTER peers (NULL or CURVE) that show the exact frames on the
 * wire, a recording logger, condition waits with deadlines, and barriers: a round trip on a
 * connection whose answer is certain, after which anything earlier messages caused has arrived.
 * Nothing here pauses for a fixed time.
 */
import { expect } from 'chai';
import { curveClient, curveServer, generateKeypair, type CurveKeypair } from '../../curve/index.js';
import type { ConnectionID } from '../../lib/connection-id.js';
import { OxenMQ } from '../../lib/oxenmq.js';
import { nodeBuf } from './bytes.js';
import type { OxenMQOptions } from '../../lib/options.js';
import { toHex } from '../../lib/oxenc/index.js';
import type { Logger } from '../../lib/logger.js';
import type { Socket } from 'node:net';
import { ZmtpConnection } from '../../zmtp/connection.js';
import { type DealerOptions, type Peer, type RouterOptions } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import type { ManualClock } from '../../zmtp/clock.js';
import { waitFor } from './net.js';

export { waitFor };

/** The two transports every applicable item runs under. */
export type Mode = 'plain' | 'curve';
export const MODES: readonly Mode[] = ['plain', 'curve'];

/** Port of a `tcp://host:port` endpoint. */
export const portOf = (ep: string): number => Number(ep.split(':').at(-1));

/** A logger that keeps every line, for assertions on what was (not) logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; msg: string; detail?: unknown }[] = [];
  /** A line with a detail object arrives as (object, message); a plain one as (message). */
  #push(level: string, first: unknown, second: unknown): void {
    if (typeof first === 'string') this.lines.push({ level, msg: first });
    else this.lines.push({ level, msg: String(second), detail: first });
  }
  warn(first: unknown, second?: unknown): void {
    this.#push('warn', first, second);
  }
  error(first: unknown, second?: unknown): void {
    this.#push('error', first, second);
  }
  info(first: unknown, second?: unknown): void {
    this.#push('info', first, second);
  }
  debug(first: unknown, second?: unknown): void {
    this.#push('debug', first, second);
  }
  /** Lines at `level` (or any level) whose text contains `needle`. */
  matching(needle: string, level?: string): string[] {
    return this.lines.filter((l) => (level === undefined || l.level === level) && l.msg.includes(needle)).map((l) => l.msg);
  }
}

/**
 * One turn of the event loop (no timer): lets the callbacks a synchronous step queued (a
 * ManualClock advance, a resolve, a scheduler job) run, so that "not yet" can be asserted after.
 */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** How `p` has settled so far: undefined while pending, then `'resolved'` or the error's code (or message). */
export function outcome(p: Promise<unknown>): () => string | undefined {
  let o: string | undefined;
  p.then(
    () => (o = 'resolved'),
    (e: Error & { code?: string }) => (o = e.code ?? e.message),
  );
  return () => o;
}

/**
 * A deadline to the millisecond: advances `clock` to 1 ms short of `ms` from now and checks that
 * `happened()` is still false, then by the last millisecond and waits for it to hold.
 */
export async function expectDueIn(clock: ManualClock, ms: number, happened: () => boolean, what: string): Promise<void> {
  clock.advance(ms - 1);
  await flush();
  expect(happened(), `${what} came before its deadline`).to.equal(false);
  clock.advance(1);
  await waitFor(happened, what);
}

/** Waits until `list` holds an entry matching `match`, removes it and returns it. */
async function take<T>(list: T[], match: (x: T) => boolean, what: string, timeoutMs = 3000): Promise<T> {
  await waitFor(() => list.some(match), what, timeoutMs);
  return list.splice(list.findIndex(match), 1)[0]!;
}

let barrierSeq = 0;
/** A command name no test registers, unique per barrier. */
const barrierName = (): string => `barrier.b${++barrierSeq}`;

/** A raw peer's received message. */
export type Msg = readonly Uint8Array[];
export const strs = (m: Msg): string[] => m.map((b) => nodeBuf(b).toString('latin1'));

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
    return c.socket as Socket;
  }
  /** Waits for the `n`-th message (1-based) and returns it. */
  async nth(n: number, what = `message #${n}`, timeoutMs = 3000): Promise<Msg> {
    await waitFor(() => this.received.length >= n, what, timeoutMs);
    return this.received[n - 1]!;
  }
  /**
   * A barrier on this connection for the listener's built-in path: sends a command the listener
   * does not have and waits for its [UNKNOWNCOMMAND][name]. A listener handles one connection's
   * messages in order and answers built-ins, error replies and this one as it reads them, so
   * anything the earlier messages made it send on that path has arrived before. The answer is
   * not kept in `received`.
   */
  async barrier(): Promise<void> {
    const name = barrierName();
    this.send(name);
    await take(this.received, (m) => m.length === 2 && nodeBuf(m[0]!).toString('latin1') === 'UNKNOWNCOMMAND' && nodeBuf(m[1]!).toString('latin1') === name, 'the barrier');
  }
  /**
   * A barrier through the handlers: sends request `command` (a registered request command that
   * replies at once) with a fresh tag and waits for its [REPLY][tag]. Handlers start in arrival
   * order, so what synchronous handlers of the earlier messages sent has arrived before. The
   * reply is not kept in `received`.
   */
  async handlerBarrier(command: string): Promise<void> {
    const tag = barrierName();
    this.send(command, tag);
    await take(this.received, (m) => m.length >= 2 && nodeBuf(m[0]!).toString('latin1') === 'REPLY' && nodeBuf(m[1]!).toString('latin1') === tag, 'the barrier reply');
  }
  close(): Promise<void> {
    return this.dealer.close(0);
  }
}

/** A raw ROUTER (NULL or CURVE with its own keypair) standing in for a remote listener. */
export class RawRouter {
  readonly received: { route: Uint8Array; frames: Msg; conn: Peer }[] = [];
  readonly router: ZmtpRouter;
  readonly keys: CurveKeypair;
  readonly connects: Peer[] = [];
  /** The route each of `connects` got. */
  readonly connectRoutes: Uint8Array[] = [];
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
    this.router.on('connect', (c, route) => {
      this.connects.push(c);
      this.connectRoutes.push(route);
    });
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
  async nth(n: number, what = `message #${n}`, timeoutMs = 3000): Promise<{ route: Uint8Array; frames: Msg; conn: Peer }> {
    await waitFor(() => this.received.length >= n, what, timeoutMs);
    return this.received[n - 1]!;
  }
  /**
   * A barrier on the connection at `route`: sends the OxenMQ peer a command it does not have and
   * waits for its [UNKNOWNCOMMAND][name]. The peer handles one connection's messages in order,
   * so it has handled everything sent before on that route (and run what that resolved). An
   * unknown command is not application traffic: it does not refresh an idle timer. The peer logs
   * one warning; the answer is not kept in `received`.
   */
  async barrier(route: Uint8Array): Promise<void> {
    const name = barrierName();
    this.router.send(route, [name]);
    await take(this.received, (m) => m.frames.length === 2 && strs(m.frames)[0] === 'UNKNOWNCOMMAND' && strs(m.frames)[1] === name, 'the barrier');
  }
  /**
   * A barrier that logs nothing on the peer: `client` sends a request over `id`, this router
   * answers it with [REPLY][tag] (after whatever the test sent before), and this resolves once
   * `client` has the reply. The request is not kept in `received`.
   */
  async requestBarrier(client: OxenMQ, id: ConnectionID): Promise<void> {
    const name = barrierName();
    const reply = client.request(id, name, [], { timeout: 60_000 });
    const req = await take(this.received, (m) => nodeBuf(m.frames[0]!).toString('latin1') === name, 'the barrier request');
    this.router.send(req.route, ['REPLY', req.frames[1]!]);
    await reply;
  }
  close(): Promise<void> {
    return this.router.close(0);
  }
}

const QUIET: Logger = { warn() {}, error() {} };

/** Owns everything a test opens and closes it all in `afterEach`. */
export class Harness {
  private readonly closers: (() => Promise<unknown>)[] = [];

  /** A new (not started) OxenMQ with fast test defaults. */
  omq(opts: OxenMQOptions = {}): OxenMQ {
    // Quiet unless a test asks for its logger: the default would print process warnings.
    const o = new OxenMQ({ connCheckInterval: 10, generalThreads: 2, logger: QUIET, ...opts });
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

/** The `code` of what `fn` throws, or undefined when it returns. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
