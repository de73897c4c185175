/**
 * The instance's listeners: plain and CURVE ZMTP routers with their Allow callbacks, bound at
 * `start()` (or at once when added later), and the built-in in-process listener that
 * `connectInproc()` reaches (C++ `inproc://sn-self`).
 *
 * The Allow callback runs once per connection, when the peer's identity (and CURVE key) is
 * known, and turns into the connection's auth level; denial answers ZMTP ERROR "400", as libzmq
 * does after a ZAP denial (upstream `oxenmq/auth.cpp` `proxy_zap_handler`).
 */
import { curveServer } from '../curve/index.js';
import { type AllowOrigin, type AuthDecision, type AuthRequest, copyBytes, isZmtpError, type MechanismFactory, nullMechanism, type Peer, ZmtpErrorCode, type ZmtpRouter } from '../zmtp/index.js';
import { AuthLevel, isAuthLevel } from './auth.js';
import { ConnectionID } from './connection-id.js';
import { channels } from './diagnostics.js';
import { OmqError, OmqErrorCode } from './errors.js';
import { InprocHub } from './inproc.js';
import { type InstanceContext, zmtpOptions } from './options.js';

/** `allow(address, pubkey, isServiceNode) → AuthLevel`, run once per incoming connection. */
export type AllowFunc = (address: string, pubkey: Uint8Array, isServiceNode: boolean) => AuthLevel | Promise<AuthLevel>;

/** What Allow grants a connection: kept by the wire layer as the peer's auth data. */
export interface ListenerAuth {
  readonly auth: AuthLevel;
}

/** What the listener knows of the peer behind a message. */
export type ListenerPeer = Pick<Peer<ListenerAuth>, 'publicKey' | 'authData' | 'remoteAddress'> & Partial<Pick<Peer<ListenerAuth>, 'hold'>>;

/** What the listeners report to the instance. */
export interface ListenerEvents {
  /** A message arrived at `route` on listener `l`. */
  message(l: Listener, frames: Uint8Array[], route: Uint8Array, peer: ListenerPeer): void;
  /** The connection at `route` closed (its CURVE key, if any, given). */
  peerGone(l: Listener, route: Uint8Array, pubkey: Uint8Array | undefined): void;
  /** True if `pubkey` is an active service node now (the Allow callback is told). */
  isActiveSn(pubkey: Uint8Array): boolean;
}

/** What the listeners need from their instance. */
export interface ListenerContext extends InstanceContext {
  readonly hooks: ListenerEvents;
  /** Browser Origins ws:// listeners accept. */
  readonly wsAllowOrigin: AllowOrigin | undefined;
}

/** One listener: a ZMTP router, or the built-in in-process one. */
export class Listener {
  router: ZmtpRouter<ListenerAuth> | undefined;
  inproc: InprocHub | undefined;
  /** The bound endpoint (real port for port 0), once bound. */
  endpoint: string | undefined;

  constructor(
    readonly id: number,
    readonly curve: boolean,
    readonly bind: string,
    readonly allow: AllowFunc | undefined,
  ) {}

  /**
   * Sends on the connection at `route`. Throws `ERR_ZMTP_HOST_UNREACHABLE` when that peer is gone
   * (ROUTER_MANDATORY), `ERR_OMQ_SEND_FAILED` when the listener is not bound.
   */
  send(route: Uint8Array, frames: ReadonlyArray<Uint8Array | string>): void {
    if (this.inproc) this.inproc.send(route, frames);
    else if (this.router) this.router.send(route, frames);
    else throw new OmqError(OmqErrorCode.SEND_FAILED, 'listener is not bound');
  }
}

/** An IPv4 peer on a dual-stack socket shows as `::ffff:a.b.c.d`; Allow is told `a.b.c.d`, as C++. */
export function normaliseAddress(address: string): string {
  return address.length >= 14 && address.startsWith('::ffff:') && /^[0-9.]+$/.test(address.slice(7)) ? address.slice(7) : address;
}

/** The listeners of one instance. */
export class Listeners {
  readonly #ctx: ListenerContext;
  readonly #all: Listener[] = [];
  readonly #byId = new Map<number, Listener>();
  readonly #pending: { listener: Listener; resolve: (ep: string) => void; reject: (e: unknown) => void }[] = [];
  #self: Listener | undefined;
  #started = false;
  #closed = false;

  constructor(ctx: ListenerContext) {
    this.#ctx = ctx;
  }

  /** Bound or binding listeners (the built-in one excluded): they count against `maxSockets`. */
  get count(): number {
    return this.#all.length;
  }

  /** The listener (or the built-in in-process one) with this number. */
  get(id: number): Listener | undefined {
    return this.#byId.get(id);
  }

  /** The built-in in-process listener; exists from start() on. */
  get self(): Listener | undefined {
    return this.#self;
  }

  /**
   * Adds a listener on `bind` (plain or CURVE). Resolves with the bound endpoint once bound: at
   * start(), or at once if already started. `onBind` (the C++ callback form) is told too.
   */
  listen(bind: string, curve: boolean, allow: AllowFunc | undefined, onBind?: (ok: boolean) => void): Promise<string> {
    if (this.#closed) return Promise.reject(new OmqError(OmqErrorCode.CLOSED, 'instance is closed'));
    if (typeof bind !== 'string' || bind.startsWith('inproc://')) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'listen: inproc:// addresses cannot be listened on');
    }
    if (allow !== undefined && typeof allow !== 'function') throw new TypeError('listen: allow must be a function');
    // Refused at the call, so that start() is not the one to fail (browsers cannot listen).
    if (this.#ctx.platform.router === undefined) throw new OmqError(OmqErrorCode.UNSUPPORTED, 'this runtime cannot listen');
    const listener = new Listener(this.#ctx.nextId(), curve, bind, allow);
    this.#all.push(listener);
    this.#byId.set(listener.id, listener);
    const p = this.#started ? this.#bind(listener) : new Promise<string>((resolve, reject) => this.#pending.push({ listener, resolve, reject }));
    p.then(
      () => onBind?.(true),
      () => onBind?.(false),
    );
    // The caller may ignore the promise (C++ style, relying on onBind or start()): never let
    // that become an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  /**
   * Creates the built-in listener and binds every listener added so far; rejects with the
   * first failure (after settling every listen() promise).
   */
  async start(selfMessage: (frames: Uint8Array[], route: Uint8Array) => void): Promise<void> {
    this.#started = true;
    const self = new Listener(this.#ctx.nextId(), false, 'inproc://sn-self', undefined);
    self.inproc = new InprocHub(selfMessage);
    this.#self = self;
    this.#byId.set(self.id, self);
    const binds = this.#pending.splice(0);
    const results = await Promise.allSettled(binds.map((b) => this.#bind(b.listener)));
    results.forEach((r, i) => (r.status === 'fulfilled' ? binds[i]!.resolve(r.value) : binds[i]!.reject(r.reason)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Closes every listener; queued messages get `lingerMs`. Listens still waiting for start() fail. */
  close(lingerMs: number): Promise<unknown>[] {
    this.#closed = true;
    const waits: Promise<unknown>[] = [];
    for (const l of this.#all) {
      const router = l.router;
      if (router === undefined) continue;
      const endpoint = l.endpoint;
      waits.push(router.close(lingerMs).then(() => endpoint !== undefined && this.#ctx.emitter.emit('listener-closed', { endpoint })));
    }
    for (const b of this.#pending.splice(0)) b.reject(new OmqError(OmqErrorCode.CLOSED, 'instance closed before start'));
    return waits;
  }

  async #bind(l: Listener): Promise<string> {
    const ctx = this.#ctx;
    const mechanism: MechanismFactory = l.curve ? curveServer({ publicKey: ctx.publicKey, secretKey: ctx.secretKey }) : nullMechanism;
    if (ctx.platform.router === undefined) throw new OmqError(OmqErrorCode.UNSUPPORTED, 'this runtime cannot listen');
    const router = ctx.platform.router<ListenerAuth>({
      ...zmtpOptions(ctx.settings, ctx.clock, ctx.logger, ctx.budgets),
      mechanism,
      allowOrigin: ctx.wsAllowOrigin,
      authenticate: (req) => this.#authenticate(l, req),
    });
    router.onMessage = (frames, route, peer) => ctx.hooks.message(l, frames, route, peer);
    router.on('handshake-failed', (err, address) => {
      ctx.throttle.info('handshake-failed', address, `handshake with ${address} failed: ${err.message}`);
      ctx.emitter.emit('handshake-failed', { address: normaliseAddress(address), error: err });
    });
    // The ConnectionID each peer was announced with, so its close names the same one even after a
    // handover took its route.
    const conns = new WeakMap<Peer<ListenerAuth>, ConnectionID>();
    router.on('connect', (peer, route) => {
      const conn = new ConnectionID(l.id, l.curve && peer.publicKey ? peer.publicKey : new Uint8Array(0), copyBytes(route));
      conns.set(peer, conn);
      const address = normaliseAddress(peer.remoteAddress);
      ctx.emitter.emit('accept', { conn, address });
      if (channels.connectionOpen.hasSubscribers) channels.connectionOpen.publish({ conn, address, direction: 'incoming' });
    });
    router.on('disconnect', (peer, route, err) => {
      // An SN's incoming route dies with its connection: the instance forgets it, or sends would
      // keep trying it. A handed-over connection (route null) leaves the route to its successor.
      if (route !== null) ctx.hooks.peerGone(l, route, peer.publicKey);
      const conn = conns.get(peer);
      if (conn === undefined) return;
      const reason = err?.message ?? 'closed';
      ctx.emitter.emit('close', { conn, reason });
      if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ conn, reason, direction: 'incoming' });
    });
    // Visible to close() while the bind is under way: close() then closes it, and the bind fails.
    l.router = router;
    try {
      l.endpoint = await router.bind(l.bind);
    } catch (err) {
      l.router = undefined;
      this.#all.splice(this.#all.indexOf(l), 1);
      this.#byId.delete(l.id);
      await router.close();
      if (this.#closed) throw new OmqError(OmqErrorCode.CLOSED, 'instance closed while binding', { cause: err });
      // The system error (EADDRINUSE, EACCES, …) is what the caller needs; the wire layer wraps it.
      const cause = isZmtpError(err, ZmtpErrorCode.BIND_FAILED) && err.cause !== undefined ? err.cause : err;
      const code = (cause as { code?: unknown }).code;
      throw new OmqError(OmqErrorCode.BIND_FAILED, `cannot listen on ${l.bind}${typeof code === 'string' ? `: ${code}` : ''}`, { cause });
    }
    ctx.emitter.emit('listening', { endpoint: l.endpoint, curve: l.curve });
    return l.endpoint;
  }

  /** The Allow callback behind the ZMTP authentication hook. */
  #authenticate(l: Listener, req: AuthRequest): AuthDecision<ListenerAuth> | Promise<AuthDecision<ListenerAuth>> {
    const ctx = this.#ctx;
    const address = normaliseAddress(req.address);
    const pubkey = l.curve && req.publicKey ? Uint8Array.from(req.publicKey) : new Uint8Array(0);
    const sn = l.curve && pubkey.length === 32 && ctx.hooks.isActiveSn(pubkey);
    const decide = (level: unknown): AuthDecision<ListenerAuth> => {
      if (!isAuthLevel(level) || level === AuthLevel.denied) {
        ctx.throttle.info('denied', address, `denied connection from ${address}`);
        return { allow: false, status: '400' };
      }
      return { allow: true, data: { auth: level } };
    };
    if (l.allow === undefined) return decide(AuthLevel.none);
    const r = l.allow(address, pubkey, sn);
    return r instanceof Promise ? r.then(decide) : decide(r);
  }
}
