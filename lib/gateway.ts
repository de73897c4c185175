/**
 * A gateway between web pages and an OxenMQ network: it serves ZWS 2.0 WebSockets (CURVE by
 * default) with its own Allow policy and Origin list, and forwards the requests whose command
 * starts with a chosen prefix (e.g. `rpc.`) to one node over `curve://` (or any address), sending
 * each reply back to the page that asked. A page cannot reach a C++ node's CURVE listener itself
 * (a browser cannot offer libzmq's `ZWS2.0/CURVE`), but it can reach this gateway.
 *
 * To the pages the gateway is an OxenMQ listener for exactly the forwarded requests: `[HI]` gets
 * `[HELLO]` (so `connectRemote` works), `[cmd][tag][args…]` is forwarded when `cmd` matches a
 * route the peer's auth level may use and answered `[REPLY][tag][reply…]`; a command no route
 * forwards gets `[UNKNOWNCOMMAND][REPLY][tag]` at once, one the peer's level may not use
 * `[FORBIDDEN][REPLY][tag]`, an error reply from the node is passed on as such, a request the
 * node does not answer in time is not answered (the page's own timeout fires, as with C++).
 *
 * Each page connection is bounded: at most `maxInflight` forwarded requests and
 * `maxInflightBytes` of their arguments at once; a page over either limit is disconnected (with
 * one rate-limited log line), so one page cannot queue unbounded work on the node.
 */
import { curveServer, generateKeypair } from '../curve/index.js';
import { type AllowOrigin, copyBytes, isZmtpError, latin1String, LogThrottle, type MechanismFactory, nullMechanism, type Peer, systemClock, ZmtpErrorCode } from '../zmtp/index.js';
import { ZmtpRouter } from '../zmtp/node.js';
import type { Address } from './address.js';
import { AuthLevel, isAuthLevel, toAuthLevel } from './auth.js';
import type { ConnectionID } from './connection-id.js';
import { OmqError, OmqErrorCode, RequestError } from './errors.js';
import type { AllowFunc } from './listeners.js';
import { normaliseAddress } from './listeners.js';
import { type OxenMQOptions, resolveBudgets, resolveKeys, resolveSettings, zmtpOptions } from './options.js';
import { OxenMQ } from './oxenmq.js';

/** One forwarded command prefix and the least auth level a page needs to use it. */
export interface GatewayRoute {
  /** Commands starting with this are forwarded (e.g. `rpc.`; `rpc.get_info` for one command). */
  prefix: string;
  /** Least auth level (from the gateway's Allow) a page needs for these commands. Default `none`. */
  auth?: AuthLevel | 'none' | 'basic' | 'admin';
}

/** Options of {@link Gateway.start}. */
export interface GatewayOptions {
  /** Where pages connect: `ws://HOST:PORT/PATH` (one or more; tcp:// works too). */
  listen: string | readonly string[];
  /** The node requests go to, e.g. `curve://10.0.0.1:22020/<pubkey>`. */
  upstream: string | Address;
  /** The forwarded prefixes (a string is `{ prefix, auth: 'none' }`). */
  forward: readonly (string | GatewayRoute)[];
  /** Serve CURVE (the pages are given the gateway's pubkey) or plaintext. Default true. */
  curve?: boolean;
  /** Decides each page connection's auth level (or denies it). Default: everyone at `none`. */
  allow?: AllowFunc;
  /** Browser Origins accepted (see {@link AllowOrigin}). Default none: set it to serve pages. */
  allowOrigin?: AllowOrigin;
  /** Forwarded requests one page may have outstanding. Default 64. */
  maxInflight?: number;
  /** Bytes of outstanding forwarded requests (command and arguments) one page may have. Default 4 MiB. */
  maxInflightBytes?: number;
  /** How long the gateway waits for the node's reply, ms. Default 15 000. */
  requestTimeout?: number;
  /** The instance that talks to the node; its keys (or fresh ones) are the gateway's CURVE keys too. */
  oxenmq?: OxenMQOptions;
}

interface PageAuth {
  readonly auth: AuthLevel;
}

interface PageState {
  inflight: number;
  bytes: number;
}

const HELLO = ['HELLO'];

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `${name} must be a positive integer`);
  return v;
}

/**
 * A running gateway: WebSocket pages in front, one OxenMQ node behind.
 *
 * @example
 * ```ts
 * import { AuthLevel, Gateway, OxenMQ } from 'oxenmq-ts';
 *
 * // The node: any OxenMQ (or C++ oxenmq) instance with a CURVE listener.
 * const node = new OxenMQ();
 * node.addCategory('rpc', AuthLevel.none).addRequestCommand('get_info', (m) => m.sendReply('{"height":1234}'));
 * const nodeEndpoint = node.listenCurve('tcp://127.0.0.1:0');
 * await node.start();
 * const port = (await nodeEndpoint).split(':').at(-1);
 *
 * // The gateway: pages connect over ws+CURVE; only rpc.* goes through.
 * const gw = await Gateway.start({
 *   listen: 'ws://127.0.0.1:0/omq',
 *   upstream: `curve://127.0.0.1:${port}/${Buffer.from(node.pubkey).toString('hex')}`,
 *   forward: ['rpc.'],
 *   allowOrigin: ['https://app.example'],
 * });
 *
 * // A client (a page, or any OxenMQ) connects with the gateway's pubkey.
 * const client = new OxenMQ();
 * await client.start();
 * const [ws] = gw.endpoints; // ws://127.0.0.1:PORT/omq
 * const conn = await client.connectRemote(`ws+curve://${ws!.slice(5)}/${Buffer.from(gw.pubkey).toString('hex')}`);
 * const [info] = await client.request(conn, 'rpc.get_info'); // '{"height":1234}'
 * await client.close();
 * await gw.close();
 * await node.close();
 * ```
 */
export class Gateway {
  /** The bound page endpoints (real ports). */
  readonly endpoints: readonly string[];
  /** The gateway's public key: what pages put in their `ws+curve://` address. */
  readonly pubkey: Uint8Array;
  readonly #router: ZmtpRouter<PageAuth>;
  readonly #omq: OxenMQ;
  readonly #conn: ConnectionID;
  readonly #routes: readonly { prefix: string; auth: AuthLevel }[];
  readonly #pages = new Map<Peer<PageAuth>, PageState>();
  readonly #throttle: LogThrottle;
  readonly #maxInflight: number;
  readonly #maxBytes: number;
  readonly #timeout: number;
  #closed = false;

  private constructor(p: {
    router: ZmtpRouter<PageAuth>;
    omq: OxenMQ;
    conn: ConnectionID;
    endpoints: string[];
    pubkey: Uint8Array;
    routes: { prefix: string; auth: AuthLevel }[];
    maxInflight: number;
    maxBytes: number;
    timeout: number;
    throttle: LogThrottle;
  }) {
    this.#router = p.router;
    this.#omq = p.omq;
    this.#conn = p.conn;
    this.endpoints = p.endpoints;
    this.pubkey = p.pubkey;
    this.#routes = p.routes;
    this.#maxInflight = p.maxInflight;
    this.#maxBytes = p.maxBytes;
    this.#timeout = p.timeout;
    this.#throttle = p.throttle;
    p.router.onMessage = (frames, route, peer) => this.#onPage(frames, route, peer);
    p.router.on('disconnect', (peer) => this.#pages.delete(peer));
  }

  /**
   * Connects to the node, then binds the page listeners.
   * @throws {OmqError} `ERR_OMQ_INVALID_ARGUMENT` for bad options, `ERR_OMQ_CONNECT_FAILED` when
   *   the node cannot be reached, `ERR_OMQ_BIND_FAILED` when a listener cannot bind.
   */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const listen = typeof opts.listen === 'string' ? [opts.listen] : [...opts.listen];
    if (listen.length === 0) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'gateway: listen needs at least one endpoint');
    if (!Array.isArray(opts.forward) || opts.forward.length === 0) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'gateway: forward needs at least one prefix');
    }
    const routes = opts.forward.map((r) => {
      const route: GatewayRoute = typeof r === 'string' ? { prefix: r } : r;
      if (typeof route.prefix !== 'string' || route.prefix.length === 0) {
        throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'gateway: a forwarded prefix must be a non-empty string');
      }
      return { prefix: route.prefix, auth: toAuthLevel(route.auth ?? AuthLevel.none) };
    });
    if (opts.allow !== undefined && typeof opts.allow !== 'function') throw new TypeError('gateway: allow must be a function');
    const maxInflight = positiveInt('maxInflight', opts.maxInflight, 64);
    const maxBytes = positiveInt('maxInflightBytes', opts.maxInflightBytes, 4 * 1024 * 1024);
    const base = opts.oxenmq ?? {};
    const keys = base.privkey === undefined && base.pubkey === undefined ? generateKeypair() : resolveKeys(base);
    const omq = new OxenMQ({ ...base, pubkey: keys.publicKey, privkey: keys.secretKey });
    const timeout = opts.requestTimeout ?? omq.defaultRequestTimeout;
    const clock = base.clock ?? systemClock;
    const throttle = new LogThrottle(omq.logger, clock);
    let router: ZmtpRouter<PageAuth> | undefined;
    try {
      await omq.start();
      const conn = await omq.connectRemote(opts.upstream);
      const mechanism: MechanismFactory = opts.curve === false ? nullMechanism : curveServer(keys);
      const allow = opts.allow;
      router = new ZmtpRouter<PageAuth>({
        ...zmtpOptions(resolveSettings(base), clock, omq.logger, resolveBudgets(base)),
        mechanism,
        allowOrigin: opts.allowOrigin,
        authenticate: async (req) => {
          const address = normaliseAddress(req.address);
          const level = allow === undefined ? AuthLevel.none : await allow(address, req.publicKey ? Uint8Array.from(req.publicKey) : new Uint8Array(0), false);
          if (!isAuthLevel(level) || level === AuthLevel.denied) {
            throttle.info('gateway-denied', address, `gateway: denied connection from ${address}`);
            return { allow: false, status: '400' };
          }
          return { allow: true, data: { auth: level } };
        },
      });
      const endpoints: string[] = [];
      for (const ep of listen) {
        try {
          endpoints.push(await router.bind(ep));
        } catch (err) {
          const cause = isZmtpError(err, ZmtpErrorCode.BIND_FAILED) && err.cause !== undefined ? err.cause : err;
          throw new OmqError(OmqErrorCode.BIND_FAILED, `gateway: cannot listen on ${ep}`, { cause });
        }
      }
      return new Gateway({ router, omq, conn, endpoints, pubkey: keys.publicKey, routes, maxInflight, maxBytes, timeout, throttle });
    } catch (err) {
      await router?.close();
      await omq.close(0);
      throw err;
    }
  }

  /** Page connections open now. */
  get connections(): number {
    return this.#router.size;
  }

  /** Stops listening, closes the pages' connections and the one to the node. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#throttle.close();
    await this.#router.close();
    await this.#omq.close(0);
  }

  #onPage(frames: Uint8Array[], route: Uint8Array, peer: Peer<PageAuth>): void {
    const cmd = (frames[0] === undefined ? '' : latin1String(frames[0]));
    if (frames.length === 1 && cmd === 'HI') {
      this.#send(route, HELLO);
      return;
    }
    if (cmd === 'BYE') {
      this.#pages.delete(peer);
      this.#router.disconnect(route);
      return;
    }
    if (cmd === 'REPLY' || frames.length < 2) return; // we ask pages nothing; a send has no tag to answer
    const tag = frames[1]!;
    const routeFor = this.#routes.find((r) => cmd.startsWith(r.prefix));
    if (routeFor === undefined) {
      this.#send(route, ['UNKNOWNCOMMAND', 'REPLY', tag]);
      return;
    }
    if ((peer.authData?.auth ?? AuthLevel.none) < routeFor.auth) {
      this.#send(route, ['FORBIDDEN', 'REPLY', tag]);
      return;
    }
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    let page = this.#pages.get(peer);
    if (page === undefined) this.#pages.set(peer, (page = { inflight: 0, bytes: 0 }));
    if (page.inflight + 1 > this.#maxInflight || page.bytes + bytes > this.#maxBytes) {
      const address = normaliseAddress(peer.remoteAddress);
      this.#throttle.warn('gateway-limit', address, `gateway: ${address} exceeded its in-flight limit; disconnecting it`);
      this.#pages.delete(peer);
      this.#router.disconnect(route);
      return;
    }
    page.inflight++;
    page.bytes += bytes;
    const state = page;
    const done = () => {
      state.inflight--;
      state.bytes -= bytes;
    };
    // The tag is a view of a received chunk: keep our own copy past this turn.
    const tagCopy = copyBytes(tag);
    this.#omq.request(this.#conn, cmd, frames.slice(2), { timeout: this.#timeout }).then(
      (reply) => {
        done();
        this.#send(route, ['REPLY', tagCopy, ...reply]);
      },
      (err: unknown) => {
        done();
        if (err instanceof RequestError && err.code !== 'TIMEOUT' && /^[A-Z_]+$/.test(err.code)) {
          this.#send(route, [err.code, 'REPLY', tagCopy]);
        } else {
          this.#throttle.info('gateway-upstream', cmd, `gateway: ${cmd} was not answered by the node: ${(err as Error).message}`);
        }
      },
    );
  }

  #send(route: Uint8Array, frames: (string | Uint8Array)[]): void {
    if (this.#closed) return;
    try {
      this.#router.send(route, frames);
    } catch (err) {
      // The page left (HOST_UNREACHABLE) or stopped reading (QUEUE_FULL): nothing to answer.
      if (!isZmtpError(err)) throw err;
    }
  }
}
