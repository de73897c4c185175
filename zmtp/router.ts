/**
 * A listener with libzmq ROUTER semantics (RFC 28 §"The ROUTER Socket Type"; libzmq
 * `src/router.cpp`, `router_t::identify_peer`), plus the two options C++ oxenmq sets on its
 * listeners (oxen-mq `oxenmq/connections.cpp`, `setup_incoming_socket`): ROUTER_HANDOVER (a new
 * connection announcing a routing id in use takes the route over; the old one is closed) and
 * ROUTER_MANDATORY (sending to a route with no live connection is a typed error, never a silent
 * drop).
 *
 * Route = the peer's announced Identity, or a generated 5-byte `00 ‖ u32be(counter)` when empty
 * (the counter starts at a random value, as libzmq's does). The router alone keeps the routes:
 * a connection does not know its own, and a handover is the router forgetting the old one's.
 *
 * Unfinished handshakes are capped per router (`maxHandshakes`, and optionally per remote
 * address): a connection past the cap is closed as soon as it is accepted, before it costs a
 * ZMTP connection, with one throttled log line. libzmq has no such cap (its listener only has
 * the kernel's accept backlog, `src/tcp_listener.cpp` with ZMQ_BACKLOG).
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { Admission, type Authenticator, type Peer } from './admission.js';
import { EMPTY_BYTES, latin1Key, newBytes, writeU32BE } from './bytes.js';
import { type ConnectionOwner, ZmtpConnection } from './connection.js';
import { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import type { MechanismFactory } from './mechanism.js';
import { nullMechanism } from './null.js';
import { LogThrottle } from './throttle.js';
import { type ResolvedZmtpOptions, type ZmtpOptions, resolveOptions } from './options.js';
import { type OutgoingMessage, SendQueue, queueLimits } from './send-queue.js';
import type { ZmtpStream } from './stream.js';
import type { AllowOrigin } from './origin.js';
import { type WsEndpoint, type WsServerHandle, listenWs } from './ws.js';

/** Options of a {@link ZmtpRouter}; `A` is the data its authentication hook attaches to peers. */
export interface RouterOptions<A = unknown> extends ZmtpOptions {
  /** Security mechanism (default NULL). */
  mechanism?: MechanismFactory;
  /**
   * Called once per connection after the peer's identity is known; deny → ERROR "400". The data
   * an admitting decision carries becomes the peer's {@link Peer.authData}.
   */
  authenticate?: Authenticator<A>;
  /** ws:// listeners: the browser Origins accepted (requests without an Origin always are). Default none. */
  allowOrigin?: AllowOrigin;
  /**
   * ws:// listeners: the ZWS 2.0 subprotocols accepted, in order of preference. Default
   * `['ZWS2.0/NULL', 'ZWS2.0+NULL', 'ZWS2.0']` for NULL, `['ZWS2.0/CURVE', 'ZWS2.0+CURVE']` for
   * CURVE (the `+` forms are ours: names a browser can offer).
   */
  wsSubprotocols?: readonly string[];
}

/** The events of a {@link ZmtpRouter}. */
export interface RouterEvents<A = unknown> {
  /** A peer completed its handshake and now owns `route`. */
  connect: [peer: Peer<A>, route: Uint8Array];
  /**
   * A connected peer is gone. `route` is the one it had, or null when a newer connection has
   * taken it over (handover); `err` is null for a clean close.
   */
  disconnect: [peer: Peer<A>, route: Uint8Array | null, err: ZmtpError | null];
  /** A connection failed before its handshake completed (never a 'connect' for it). */
  'handshake-failed': [err: ZmtpError, address: string];
  /** A peer's socket drained and its send queue is empty again: sending after QUEUE_FULL may resume. */
  drain: [peer: Peer<A>, route: Uint8Array];
}

/** Handler for incoming messages: the frames after the (local) route, the route and the peer. */
export type RouterMessageHandler<A = unknown> = (frames: Uint8Array[], route: Uint8Array, peer: Peer<A>) => void;

/**
 * A ZMTP ROUTER that listens: many peers, each addressed by its route.
 *
 * @example
 * ```ts
 * import { ZmtpDealer, ZmtpRouter } from 'oxenmq-ts/zmtp';
 *
 * // The hook admits everyone and remembers where each peer came from (typed: peer.authData).
 * const router = new ZmtpRouter({ authenticate: (req) => ({ allow: true, data: { from: req.address } }) });
 * router.onMessage = (frames, route, peer) => {
 *   router.send(route, ['echo', peer.authData?.from ?? '?', ...frames]); // reply to the sender
 * };
 * const gone: string[] = [];
 * router.on('disconnect', (peer, _route, err) => gone.push(`#${peer.serial}: ${err?.code ?? 'closed'}`));
 * const endpoint = await router.bind('tcp://127.0.0.1:0');
 *
 * const dealer = new ZmtpDealer();
 * const reply = new Promise<Uint8Array[]>((resolve) => (dealer.onMessage = resolve));
 * dealer.connect(endpoint);
 * dealer.send(['hello']);
 * const [tag, from, body] = await reply; // 'echo', '127.0.0.1', 'hello'
 * await dealer.close();
 * await router.close();
 * ```
 */
export class ZmtpRouter<A = unknown> extends EventEmitter<RouterEvents<A>> implements ConnectionOwner<A> {
  /** The options in force: what was passed, with every default filled in. */
  readonly options: ResolvedZmtpOptions;
  /** Live, handshaken connections by route key ({@link latin1Key} of the route: cheap and exact). */
  private readonly routes = new Map<string, ZmtpConnection<A>>();
  /** The route of each connection that holds one; a handed-over connection has none. */
  private readonly routeOf = new Map<ZmtpConnection<A>, Uint8Array>();
  /** Every open connection, handshaken or not. */
  private readonly connections = new Set<ZmtpConnection<A>>();
  private readonly servers: { server: net.Server; endpoint: Endpoint; ipcPath?: string }[] = [];
  private readonly wsServers: WsServerHandle[] = [];
  private readonly mechanism: MechanismFactory;
  private readonly admission: Admission<A>;
  private readonly allowOrigin: AllowOrigin | undefined;
  private readonly wsSubprotocols: readonly string[] | undefined;
  /** Connections whose handshake has not completed, and how many of them per remote address. */
  private readonly handshaking = new Set<ZmtpConnection<A>>();
  private readonly handshakesFrom = new Map<string, number>();
  private readonly throttle: LogThrottle;
  /** Callers of {@link ZmtpRouter.drained}, per connection. */
  private readonly drainWaiters = new Map<ZmtpConnection<A>, (() => void)[]>();
  private nextGenerated = randomInt(0, 0x7fff_ffff);
  private closed = false;
  /** Receives every incoming message; set it before binding. */
  onMessage: RouterMessageHandler<A> = () => {};

  constructor(opts: RouterOptions<A> = {}) {
    super();
    this.options = resolveOptions(opts);
    this.mechanism = opts.mechanism ?? nullMechanism;
    this.admission = new Admission<A>('ROUTER', opts.authenticate);
    this.allowOrigin = opts.allowOrigin;
    this.wsSubprotocols = opts.wsSubprotocols;
    this.throttle = new LogThrottle(this.options.logger, this.options.clock);
  }

  /** Connections accepted whose handshake has not completed yet. */
  get pendingHandshakes(): number {
    return this.handshaking.size;
  }

  /** Number of live routes. */
  get size(): number {
    return this.routes.size;
  }

  /** The endpoints bound so far, with real ports. */
  get endpoints(): string[] {
    return [...this.servers, ...this.wsServers].map((s) => formatEndpoint(s.endpoint));
  }

  /**
   * Starts listening on `endpoint` and resolves with the bound endpoint (port 0 and `*` resolved).
   * Rejects with BIND_FAILED (cause: the system error) or BAD_ENDPOINT.
   */
  async bind(endpoint: string): Promise<string> {
    if (this.closed) throw new ZmtpError(ZmtpErrorCode.CLOSED, 'router is closed');
    const ep = parseEndpoint(endpoint);
    if (ep.transport === 'ws' || ep.transport === 'wss') return this.bindWs(ep);
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    let listenArg: net.ListenOptions;
    if (ep.transport === 'ipc') {
      await removeStaleSocket(ep.path);
      listenArg = { path: ep.path };
    } else {
      let host = ep.host === '*' ? (this.options.ipv6 ? '::' : '0.0.0.0') : ep.host;
      if (ep.host === 'localhost' && !this.options.ipv6) host = '127.0.0.1';
      listenArg = { host, port: ep.port, ipv6Only: false };
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        server.close();
        reject(new ZmtpError(ZmtpErrorCode.BIND_FAILED, `cannot bind ${endpoint}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen(listenArg, () => {
        server.off('error', onError);
        resolve();
      });
    });
    if (this.closed) {
      // close() ran while we were binding: it cannot have seen this server, so stop it here.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ep.transport === 'ipc') unlinkQuietly(ep.path);
      throw new ZmtpError(ZmtpErrorCode.CLOSED, 'router was closed while binding');
    }
    server.on('error', (err) => this.options.logger.error?.(`zmtp: listener ${endpoint} failed`, err));
    let bound: Endpoint = ep;
    if (ep.transport === 'tcp') {
      const a = server.address() as net.AddressInfo;
      bound = { transport: 'tcp', host: a.address, port: a.port };
    }
    this.servers.push({ server, endpoint: bound, ipcPath: ep.transport === 'ipc' ? ep.path : undefined });
    return formatEndpoint(bound);
  }

  /** The peer that owns `route` now, if any. */
  peer(route: Uint8Array): Peer<A> | undefined {
    return this.routes.get(latin1Key(route));
  }

  /**
   * Closes the connection that owns `route` (what is queued gets `lingerMs` to go out); false
   * when no connection has that route. Its 'disconnect' follows.
   */
  disconnect(route: Uint8Array, lingerMs = 0): boolean {
    const conn = this.routes.get(latin1Key(route));
    if (conn === undefined) return false;
    conn.close(lingerMs);
    return true;
  }

  /**
   * Sends a message to the peer at `route`. Throws HOST_UNREACHABLE when no live connection has
   * that route (ROUTER_MANDATORY), QUEUE_FULL at the high-water mark, TypeError for a part that is
   * neither a string nor a Uint8Array (nothing is sent then).
   * Parts are handed over by reference, as with `net.Socket.write`: do not modify a buffer after
   * passing it here (it may be queued, or written at the end of the event-loop turn); copy it
   * first if you must reuse it.
   */
  send(route: Uint8Array, msg: OutgoingMessage): void {
    const conn = this.routes.get(latin1Key(route));
    if (conn === undefined) {
      throw new ZmtpError(ZmtpErrorCode.HOST_UNREACHABLE, 'no connected peer has this route');
    }
    conn.send(msg);
  }

  /**
   * Resolves once the peer at `route` has nothing queued (at once when its queue is empty, or no
   * live connection has that route; also when that connection closes): the moment to resume
   * after QUEUE_FULL.
   */
  drained(route: Uint8Array): Promise<void> {
    const conn = this.routes.get(latin1Key(route));
    if (conn === undefined || conn.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let list = this.drainWaiters.get(conn);
      if (list === undefined) this.drainWaiters.set(conn, (list = []));
      list.push(resolve);
    });
  }

  /** Bytes queued for the peer at `route` and not yet handed to its socket (0 when there is none). */
  queuedBytes(route: Uint8Array): number {
    return this.routes.get(latin1Key(route))?.queue.bytes ?? 0;
  }

  /** Stops listening and closes every connection (queued messages get `lingerMs` to go out). */
  async close(lingerMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.throttle.close();
    const closing = this.servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.server.close(() => resolve());
          if (s.ipcPath) unlinkQuietly(s.ipcPath);
        }),
    );
    closing.push(...this.wsServers.map((s) => s.close()));
    const waits: Promise<void>[] = [];
    for (const c of this.connections) {
      waits.push(new Promise<void>((resolve) => c.socket.once('close', () => resolve())));
      c.close(lingerMs);
    }
    await Promise.all([...closing, ...waits]);
  }

  // --- ConnectionOwner ----------------------------------------------------------------------

  /** Connection callback (not for users): the handshake of `conn` completed. */
  connReady(conn: ZmtpConnection<A>): void {
    this.handshakeDone(conn);
    let route = conn.identity;
    if (route.length === 0) {
      route = newBytes(5);
      route[0] = 0;
      writeU32BE(route, this.nextGenerated, 1);
      this.nextGenerated = (this.nextGenerated + 1) >>> 0;
    }
    const key = latin1Key(route);
    const old = this.routes.get(key);
    if (old !== undefined) {
      // Handover: the newcomer takes the route; the old connection loses it and is closed.
      this.routeOf.delete(old);
      old.close(0);
    }
    this.routes.set(key, conn);
    this.routeOf.set(conn, route);
    this.emit('connect', conn, route);
  }

  /** Connection callback (not for users): `conn` received a whole multipart message. */
  connMessage(conn: ZmtpConnection<A>, frames: Uint8Array[]): void {
    const route = this.routeOf.get(conn);
    if (route === undefined) return; // handed over: delivers nothing further
    this.onMessage(frames, route, conn);
  }

  /** Connection callback (not for users): the socket of a connection drained. */
  connDrain(conn: ZmtpConnection<A>): void {
    if (conn.queue.length > 0) return;
    this.wakeDrainWaiters(conn);
    const route = this.routeOf.get(conn);
    if (route !== undefined) this.emit('drain', conn, route);
  }

  private wakeDrainWaiters(conn: ZmtpConnection<A>): void {
    const list = this.drainWaiters.get(conn);
    if (list === undefined) return;
    this.drainWaiters.delete(conn);
    for (const w of list) w();
  }

  /** Connection callback (not for users): `conn` closed, with the error that ended it if any. */
  connClose(conn: ZmtpConnection<A>, err: ZmtpError | null, wasReady: boolean): void {
    this.connections.delete(conn);
    this.handshakeDone(conn);
    conn.queue.clear(); // gives its bytes back to the output budget
    this.wakeDrainWaiters(conn);
    const route = this.routeOf.get(conn);
    if (route !== undefined) {
      this.routeOf.delete(conn);
      this.routes.delete(latin1Key(route));
    }
    if (wasReady) {
      if (err) this.options.logger.debug?.(`zmtp: peer #${conn.serial} disconnected: ${err.message}`);
      this.emit('disconnect', conn, route ?? null, err);
    } else {
      const e = err ?? new ZmtpError(ZmtpErrorCode.TRANSPORT, 'peer closed the connection during the handshake');
      this.options.logger.warn?.(`zmtp: handshake with ${conn.remoteAddress} failed: ${e.message}`);
      this.emit('handshake-failed', e, conn.remoteAddress);
    }
  }

  private async bindWs(endpoint: WsEndpoint): Promise<string> {
    const server = await listenWs({
      endpoint,
      mechanism: this.mechanism.name,
      options: this.options,
      allowOrigin: this.allowOrigin,
      subprotocols: this.wsSubprotocols,
      accept: (stream) => {
        this.accept(stream);
        stream.start();
      },
      refused: (err, address) => {
        this.throttle.warn('ws-refused', address, `zmtp: WebSocket connection from ${address} refused: ${err.message}`);
        this.emit('handshake-failed', err, address);
      },
    });
    if (this.closed) {
      await server.close();
      throw new ZmtpError(ZmtpErrorCode.CLOSED, 'router was closed while binding');
    }
    this.wsServers.push(server);
    return formatEndpoint(server.endpoint);
  }

  private accept(socket: ZmtpStream): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? 'localhost';
    const { maxHandshakes, maxHandshakesPerAddress } = this.options;
    const fromAddress = this.handshakesFrom.get(address) ?? 0;
    if ((maxHandshakes >= 0 && this.handshaking.size >= maxHandshakes) || (maxHandshakesPerAddress >= 0 && fromAddress >= maxHandshakesPerAddress)) {
      socket.destroy();
      const which = maxHandshakes >= 0 && this.handshaking.size >= maxHandshakes ? `maxHandshakes (${maxHandshakes})` : `maxHandshakesPerAddress (${maxHandshakesPerAddress})`;
      this.throttle.warn('handshake-limit', address, `zmtp: closed a connection from ${address}: ${which} unfinished handshakes already`);
      return;
    }
    const conn = new ZmtpConnection<A>({
      socket,
      role: 'server',
      admission: this.admission,
      identity: EMPTY,
      mechanism: this.mechanism,
      options: this.options,
      owner: this,
      remoteAddress: address,
      queue: new SendQueue(queueLimits(this.options)),
    });
    this.connections.add(conn);
    this.handshaking.add(conn);
    this.handshakesFrom.set(address, fromAddress + 1);
  }

  /** `conn` is no longer handshaking (it completed, or closed). */
  private handshakeDone(conn: ZmtpConnection<A>): void {
    if (!this.handshaking.delete(conn)) return;
    const n = (this.handshakesFrom.get(conn.remoteAddress) ?? 1) - 1;
    if (n > 0) this.handshakesFrom.set(conn.remoteAddress, n);
    else this.handshakesFrom.delete(conn.remoteAddress);
  }
}

const EMPTY = EMPTY_BYTES;

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Removes a Unix socket file left behind by a dead process (nobody accepts on it), but never a
 * live one or a non-socket: a live listener makes the later bind fail with EADDRINUSE, which is
 * the right answer. (libzmq unlinks unconditionally, which can steal a live socket's path.)
 */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return;
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (!live) {
    try {
      unlinkSync(path);
    } catch {
      // raced with someone else's cleanup
    }
  }
}
