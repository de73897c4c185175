/**
 * The OxenMQ instance, runtime-neutral (each entry's OxenMQ gives it its runtime's platform.ts): the public API over the parts that do the work — options.ts (settings and
 * defaults), registry.ts (categories and commands), dispatch.ts (what a message means),
 * requests.ts (pending requests), peers.ts (outgoing connections and service nodes),
 * listeners.ts (listeners and Allow), send.ts (delivery) and jobs/ (the scheduler).
 *
 * One event loop plays the C++ proxy thread; handlers run in the scheduler's worker slots.
 */
import { type Clock, LogThrottle, systemClock, type TimerHandle, utf8Bytes } from '../zmtp/index.js';
import { Address } from './address.js';
import { type Access, AuthLevel, toAuthLevel } from './auth.js';
import { ConnectionID } from './connection-id.js';
import { AbortError, OmqError, OmqErrorCode, RequestError } from './errors.js';
import { type Batch, Scheduler, type SchedulerStats, type TaggedThreadID, type TimerID } from './jobs/index.js';
import { Emitter, type OxenMQEvents, type OxenMQListener } from './events.js';
import { Inbound } from './inbound.js';
import { type AllowFunc, type ListenerPeer, Listeners } from './listeners.js';
import { LevelLogger, type LogLevel, type Logger, isLogLevel, processWarningLogger } from './logger.js';
import { type OxenMQOptions, type OxenMQSettings, resolveBudgets, resolveKeys, resolveSettings, underSocketLimit } from './options.js';
import { parsePubkey } from './oxenc/index.js';
import { Peers } from './peers.js';
import type { Platform } from './platform.js';
import { type CommandHandler, Registry } from './registry.js';
import { Requests } from './requests.js';
import { Delivery, type RequestOptions, type SendArg, type SendOptions, checkParts, collectArgs, commandBytes } from './send.js';

/** Options of {@link OxenMQ.connectRemote} and {@link OxenMQ.connectInproc}. */
export interface ConnectRemoteOptions {
  /** Auth level granted to commands the remote sends us over this connection. Default none (inproc: admin). */
  authLevel?: AuthLevel;
  /** Fail unless the listener's HELLO arrives within this many ms. Default `remoteConnectTimeout` (inproc: `inprocConnectTimeout`). */
  timeout?: number;
  /** Announce a throw-away routing id on this connection. Default `ephemeralRoutingId`. */
  ephemeralRoutingId?: boolean;
  /** Gives up when aborted: the pending connection is closed and the promise rejects with an `AbortError` (cause: `signal.reason`). */
  signal?: AbortSignal;
}

/** Options of {@link OxenMQ.connectSn}. */
export interface ConnectSnOptions {
  /** Keep the connection this long without traffic, ms. Default `defaultConnectSnKeepAlive`. */
  keepAlive?: number;
  /** Address to use instead of `snLookup`. */
  hint?: string;
  /** Announce a throw-away routing id. Default `ephemeralRoutingId`. */
  ephemeralRoutingId?: boolean;
}

/** The callback form of request(): `(success, data)`; on failure `data` is `[reason]`. */
export type RequestCallback = (success: boolean, data: Uint8Array[]) => void;

/** The options of a request given none. */
const NO_OPTIONS: RequestOptions = Object.freeze({});

/** Peers on the built-in in-process listener are this instance itself, with admin rights. */
const SELF_ADDRESS = '(unknown)';

/** The C++ tunables ({@link OxenMQSettings}) are plain properties of the instance. */
export interface OxenMQ extends OxenMQSettings {}

/** The runtime-neutral instance; each entry's OxenMQ (lib/oxenmq.ts, lib/browser.ts) extends it. */
export class OxenMQ {
  /** This instance's X25519 public key. */
  readonly pubkey: Uint8Array;
  /** True when running as a service node. */
  readonly serviceNode: boolean;
  /** Maps an SN pubkey to its address when a send needs a new connection; may be replaced at any time. */
  snLookup: ((pubkey: Uint8Array) => string | undefined) | undefined;
  /** The logger the instance writes to (filtered by {@link OxenMQ.logLevel}). */
  readonly logger: Logger;

  readonly #privkey: Uint8Array;
  readonly #log: LevelLogger;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #registry = new Registry();
  readonly #requests = new Requests();
  readonly #listeners: Listeners;
  readonly #peers: Peers;
  readonly #delivery: Delivery;
  readonly #inbound: Inbound;
  readonly #throttle: LogThrottle;
  readonly #events: Emitter<OxenMQEvents>;
  #started = false;
  #closed = false;
  #nextId = 1;
  #tick: TimerHandle | null = null;

  /**
   * The runtime-neutral instance on `platform`'s transports. Construct the entry's OxenMQ, which
   * brings its runtime's platform (Node's, or a browser's).
   */
  constructor(opts: OxenMQOptions | undefined, platform: Platform) {
    opts ??= {};
    const level = opts.logLevel ?? 'warn';
    if (!isLogLevel(level)) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'logLevel must be error, warn, info or debug');
    this.#log = new LevelLogger(opts.logger ?? processWarningLogger, level);
    this.logger = this.#log;
    Object.assign(this, resolveSettings(opts));
    const budgets = resolveBudgets(opts);
    const keys = resolveKeys(opts);
    this.pubkey = keys.publicKey;
    this.#privkey = keys.secretKey;
    this.serviceNode = !!opts.serviceNode;
    this.snLookup = opts.snLookup;
    this.#clock = opts.clock ?? systemClock;
    this.#scheduler = new Scheduler({
      generalThreads: opts.generalThreads,
      batchThreads: opts.batchThreads,
      replyThreads: opts.replyThreads,
      workerThreads: opts.workerThreads,
      workerEntry: opts.workerEntry,
      clock: this.#clock,
      logger: this.#log,
      parallelism: platform.parallelism,
      workerPool: platform.workerPool,
    });
    this.#throttle = new LogThrottle(this.#log, this.#clock);
    this.#events = new Emitter<OxenMQEvents>(this.#log);
    const common = {
      settings: this as OxenMQSettings,
      clock: this.#clock,
      logger: this.#log,
      publicKey: this.pubkey,
      secretKey: this.#privkey,
      nextId: () => this.#nextId++,
      throttle: this.#throttle,
      emitter: this.#events,
      budgets,
      platform,
    };
    this.#listeners = new Listeners({
      ...common,
      wsAllowOrigin: opts.wsAllowOrigin,
      hooks: {
        message: (l, frames, route, peer) => this.#inbound.fromListener(l, frames, route, peer, false),
        peerGone: (l, route, pubkey) => {
          if (pubkey?.length === 32) this.#peers.forgetIncoming(pubkey, l, route);
        },
        isActiveSn: (pk) => this.#peers.isActive(pk),
      },
    });
    this.#peers = new Peers({
      ...common,
      snLookup: () => this.snLookup,
      socketAvailable: () => underSocketLimit(this, this.#peers.count + this.#listeners.count),
      onMessage: (out, frames, remote) => this.#inbound.fromOutgoing(out, frames, remote),
    });
    this.#delivery = new Delivery({
      ...common,
      peers: this.#peers,
      listeners: this.#listeners,
      scheduler: this.#scheduler,
      closed: () => this.#closed,
    });
    this.#inbound = new Inbound({
      ...common,
      registry: this.#registry,
      requests: this.#requests,
      peers: this.#peers,
      scheduler: this.#scheduler,
      sender: this,
      localSn: this.serviceNode,
    });
  }

  /**
   * Listens to a lifecycle event ({@link OxenMQEvents}): `connect`, `disconnect`,
   * `connect-failed` (outgoing), `accept`, `close`, `handshake-failed` (incoming), `listening`,
   * `listener-closed`. A listener that throws is logged.
   */
  on<K extends keyof OxenMQEvents>(name: K, fn: OxenMQListener<K>): this {
    this.#events.on(name, fn);
    return this;
  }

  /** Listens to the next `name` event only. */
  once<K extends keyof OxenMQEvents>(name: K, fn: OxenMQListener<K>): this {
    this.#events.once(name, fn);
    return this;
  }

  /** Stops calling a listener added with {@link OxenMQ.on}. */
  off<K extends keyof OxenMQEvents>(name: K, fn: OxenMQListener<K>): this {
    this.#events.off(name, fn);
    return this;
  }

  /** The least severe level logged; may be changed at any time. */
  get logLevel(): LogLevel {
    return this.#log.level;
  }

  set logLevel(level: LogLevel) {
    if (!isLogLevel(level)) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'logLevel must be error, warn, info or debug');
    this.#log.level = level;
  }

  // ---- registration (before start) ------------------------------------------------------------

  /**
   * Adds a command category: name 1–50 bytes without '.', unique. `access` is an AuthLevel or
   * `{ auth, remoteSn, localSn }`; `reservedThreads` slots are kept for it and at most `maxQueue`
   * of its commands wait (−1 unlimited, 0 never queue). Returns a helper to add its commands.
   */
  addCategory(name: string, access: AuthLevel | string | Partial<Access>, reservedThreads = 0, maxQueue = 200): CategoryHelper {
    this.#checkNotStarted('addCategory');
    this.#registry.addCategory(name, access, (c) => this.#scheduler.addCategory(c.name, reservedThreads, maxQueue));
    return new CategoryHelper(this, name);
  }

  /** Adds a command to a category; its handler receives a {@link Message}. */
  addCommand(category: string, name: string, handler: CommandHandler): void {
    this.#registry.addCommand(category, name, handler, false);
  }

  /** Adds a request command: its first data frame is taken as the reply tag. */
  addRequestCommand(category: string, name: string, handler: CommandHandler): void {
    this.#registry.addCommand(category, name, handler, true);
  }

  /** Makes `from` an alias of the full command `to` (resolved before any access check). */
  addCommandAlias(from: string, to: string): void {
    this.#registry.addAlias(from, to);
  }

  // ---- the scheduler --------------------------------------------------------------------------

  /** Sets `G`, the general worker slots (before start). */
  setGeneralThreads(n: number): void {
    this.#scheduler.setGeneralThreads(n);
  }
  /** Sets `B`, the slots reserved for batch jobs (before start). */
  setBatchThreads(n: number): void {
    this.#scheduler.setBatchThreads(n);
  }
  /** Sets `R`, the slots reserved for reply callbacks (before start). */
  setReplyThreads(n: number): void {
    this.#scheduler.setReplyThreads(n);
  }
  /** Adds a named serial queue that runs only what is sent to it, in order (before start). */
  addTaggedThread(name: string, start?: () => unknown): TaggedThreadID {
    return this.#scheduler.addTaggedThread(name, start);
  }
  /** Submits a batch of jobs; its completion runs once after the last one. */
  batch<R>(b: Batch<R>): void {
    this.#scheduler.batch(b);
  }
  /** Queues one job on the batch queue (or a tagged thread); its errors are logged. */
  job(fn: () => unknown, thread?: TaggedThreadID): void {
    this.#scheduler.job(fn, thread);
  }
  /** Runs `fn` every `intervalMs` as a batch job; with `squelch` (default) never two at once. */
  addTimer(fn: () => unknown, intervalMs: number, options?: { squelch?: boolean; thread?: TaggedThreadID }): TimerID {
    return this.#scheduler.addTimer(fn, intervalMs, options);
  }
  /** Stops a timer's future firings. */
  cancelTimer(id: TimerID): void {
    this.#scheduler.cancelTimer(id);
  }
  /** Runs `fn` as if it were a command of `category`: same admission and queue limits. */
  injectTask(category: string, command: string, remote: string, fn: (() => unknown) | null | undefined): void {
    const c = this.#registry.category(category);
    if (c === undefined) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `unknown category ${JSON.stringify(category)}`);
    this.#scheduler.injectTask(c.name, command, remote, fn);
  }
  /** `await using omq = new OxenMQ()` closes the instance at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Scheduler counters, for monitoring and tests; categories keyed by their names as registered. */
  stats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Listens for CURVE connections; resolves with the bound endpoint once start() has bound it. */
  listenCurve(bind: string, allow?: AllowFunc, onBind?: (ok: boolean) => void): Promise<string> {
    return this.#listeners.listen(bind, true, allow, onBind);
  }

  /** Listens for plaintext (NULL) connections; resolves with the bound endpoint once start() has bound it. */
  listenPlain(bind: string, allow?: AllowFunc, onBind?: (ok: boolean) => void): Promise<string> {
    return this.#listeners.listen(bind, false, allow, onBind);
  }

  /** Freezes registration, starts the scheduler and the cleanup tick, and binds the listeners added so far. */
  async start(): Promise<void> {
    if (this.#closed) throw new OmqError(OmqErrorCode.CLOSED, 'instance is closed');
    if (this.#started) throw new OmqError(OmqErrorCode.INVALID_STATE, 'already started');
    this.#started = true;
    this.#registry.freeze();
    this.#scheduler.start();
    this.#armTick();
    const selfPeer: ListenerPeer = { publicKey: this.pubkey, authData: { auth: AuthLevel.admin }, remoteAddress: SELF_ADDRESS };
    try {
      await this.#listeners.start((frames, route) => this.#inbound.fromListener(this.#listeners.self!, frames, route, selfPeer, true));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * Shuts down: stops the tick and the scheduler, fails pending requests, and closes every
   * connection and listener with `lingerMs` for queued messages. No goodbye is sent (as C++).
   */
  async close(lingerMs = this.closeLinger): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== null) this.#clock.clearTimeout(this.#tick);
    this.#tick = null;
    this.#requests.failAll((command) => new RequestError(OmqErrorCode.CLOSED, command, `request ${command} failed: the instance was closed`));
    this.#throttle.close();
    await Promise.all([...this.#peers.closeAll(lingerMs), ...this.#listeners.close(lingerMs), this.#scheduler.close()]);
  }

  // ---- service nodes --------------------------------------------------------------------------

  /** Replaces the active service-node set; connections to SNs no longer in it are closed. */
  setActiveSns(pubkeys: Iterable<Uint8Array | string>): void {
    this.#peers.setActive(pubkeys);
  }

  /** Adds and removes service nodes; a key in both lists counts as added. */
  updateActiveSns(added: Iterable<Uint8Array | string>, removed: Iterable<Uint8Array | string>): void {
    this.#peers.updateActive(added, removed);
  }

  /** True if `pubkey` is in the active service-node set. */
  isActiveSn(pubkey: Uint8Array): boolean {
    return this.#peers.isActive(pubkey);
  }

  // ---- connecting -----------------------------------------------------------------------------

  /**
   * Connects to a remote listener at `address` (a plain `tcp://`/`ipc://` or a curve address) and
   * resolves on its HELLO with the connection's ID (carrying the remote pubkey for curve).
   * Rejects with `ERR_OMQ_CONNECT_FAILED` on timeout ("connection attempt timed out"), refusal
   * or a bad address.
   */
  connectRemote(address: string | Address, options: ConnectRemoteOptions = {}): Promise<ConnectionID> {
    return this.#connectRemote(address, options).done;
  }

  /** Callback form of {@link connectRemote} (C++ `connect_remote(addr, on_connect, on_failure)`); returns the ID at once. */
  connectRemoteCb(
    address: string | Address,
    onConnect: (id: ConnectionID) => void,
    onFailure: (id: ConnectionID, reason: string) => void,
    options: ConnectRemoteOptions = {},
  ): ConnectionID {
    const { id, done } = this.#connectRemote(address, options);
    const cid = new ConnectionID(id);
    done.then(
      (established) => this.#scheduler.submitReply(() => onConnect(established), 'connect success'),
      (err: OmqError) => this.#scheduler.submitBatchJob(() => onFailure(cid, err.message), 'connect failure'),
    );
    return cid;
  }

  /** Connects to this instance's own built-in in-process listener; admin access by default. */
  connectInproc(options: ConnectRemoteOptions = {}): Promise<ConnectionID> {
    this.#checkStarted('connectInproc');
    const auth = toAuthLevel(options.authLevel ?? AuthLevel.admin);
    const deadline = this.#clock.now() + (options.timeout ?? this.inprocConnectTimeout);
    return this.#peers.connectInproc(this.#listeners.self!.inproc!, auth, deadline);
  }

  /**
   * Ensures an outgoing connection to the service node `pubkey` (using `hint` or `snLookup`)
   * and returns its SN-form ID. Reports neither success nor failure (as C++).
   */
  connectSn(pubkey: Uint8Array | string, options: ConnectSnOptions = {}): ConnectionID {
    this.#checkStarted('connectSn');
    const pk = parsePubkey(pubkey);
    this.#peers.snTarget(pk, {
      hint: options.hint,
      keepAlive: options.keepAlive ?? this.defaultConnectSnKeepAlive,
      ephemeral: options.ephemeralRoutingId ?? this.ephemeralRoutingId,
      optional: false,
      incoming: false,
      outgoing: true,
    });
    return ConnectionID.sn(pk);
  }

  /**
   * Closes the first outgoing connection matching `conn` (a connectRemote ID or an SN pubkey)
   * with `lingerMs`; nothing is sent to the peer. A still-pending connect fails at once.
   */
  disconnect(conn: ConnectionID | Uint8Array, lingerMs = 1000): void {
    const cid = conn instanceof ConnectionID ? conn : ConnectionID.sn(conn);
    const out = this.#peers.find(cid);
    if (out === undefined) {
      this.#log.warn(`disconnect: ${cid.toString()} is not an outgoing connection`);
      return;
    }
    this.#peers.close(out, lingerMs, 'disconnected before the connection was established');
  }

  // ---- sending --------------------------------------------------------------------------------

  /**
   * Sends `[command][parts…]` to `to` (a ConnectionID, or a 32-byte SN pubkey). Arguments mix
   * parts (Uint8Array/string), `dataParts(...)`, option objects ({@link SendOptions}) and unset
   * optionals (undefined). A message that cannot be sent is dropped and reported through the
   * `queueFailure`/`queueFull` callbacks (and the log).
   * Parts are handed over by reference, as with `net.Socket.write`: do not modify a buffer after
   * passing it here (it may be queued, or written at the end of the event-loop turn); copy it
   * first if you must reuse it.
   */
  send(to: ConnectionID | Uint8Array, command: string, ...args: SendArg[]): void {
    if (typeof command !== 'string') throw new TypeError('send: command must be a string');
    const { frames, opts } = collectArgs([commandBytes(command)], args);
    this.#delivery.deliver(to, frames, opts, command);
  }

  /**
   * Resolves once the connection `conn` has nothing queued for sending: at once when nothing is
   * queued (or `conn` is not a live connection), else when its socket has taken it all, or it
   * closed. Sends past a connection's budget (`maxQueuedBytes`, `sendHighWaterMark`) or the
   * instance's `outputBudget` are dropped with `queueFull`; this is how a sender waits for room
   * instead.
   *
   * @example
   * ```ts
   * // A producer that never outruns its peer: what it has sent is written before it sends more.
   * for (const chunk of chunks) {
   *   omq.send(conn, 'log.append', chunk);
   *   await omq.drained(conn); // at once while nothing is queued
   * }
   * ```
   */
  drained(conn: ConnectionID | Uint8Array): Promise<void> {
    return this.#delivery.drained(conn);
  }

  /**
   * Sends a request `[command][tag][parts…]` and resolves with the reply's parts; rejects with a
   * {@link RequestError} (`TIMEOUT`, `FORBIDDEN`, `FORBIDDEN_SN`, `NOT_A_SERVICE_NODE`).
   */
  request(to: ConnectionID | Uint8Array, command: string, parts?: ReadonlyArray<Uint8Array | string>, options?: RequestOptions): Promise<Uint8Array[]>;
  /** Callback form (C++ `request(conn, cmd, callback, parts…)`): `cb(success, data)`. */
  request(to: ConnectionID | Uint8Array, command: string, callback: RequestCallback, ...args: SendArg[]): void;
  request(
    to: ConnectionID | Uint8Array,
    command: string,
    partsOrCb?: ReadonlyArray<Uint8Array | string> | RequestCallback,
    options?: RequestOptions | SendArg,
  ): Promise<Uint8Array[]> | void {
    if (typeof partsOrCb === 'function') {
      const cb = partsOrCb;
      // The callback form takes any number of send arguments. Read from `arguments` rather than a
      // rest parameter, which would allocate an array on every promise-form call too.
      const rest: SendArg[] = [];
      for (let i = 3; i < arguments.length; i++) rest.push(arguments[i] as SendArg);
      const { frames, opts } = collectArgs([], rest);
      this.#request(to, command, frames, opts).then(
        (data) => this.#scheduler.submitReply(() => cb(true, data), `reply to ${command}`),
        (err: RequestError) =>
          // C++ runs timeouts on the batch queue and error replies on the reply queue.
          err.code === 'TIMEOUT'
            ? this.#scheduler.submitBatchJob(() => cb(false, [utf8Bytes(err.code)]), `timeout of ${command}`)
            : this.#scheduler.submitReply(() => cb(false, [utf8Bytes(err.code)]), `error reply to ${command}`),
      );
      return;
    }
    return this.#request(to, command, partsOrCb ?? [], (options as RequestOptions | undefined) ?? NO_OPTIONS);
  }

  // ---- internals ------------------------------------------------------------------------------

  #connectRemote(address: string | Address, options: ConnectRemoteOptions): { id: number; done: Promise<ConnectionID> } {
    this.#checkStarted('connectRemote');
    let addr: Address;
    try {
      addr = typeof address === 'string' ? Address.parse(address) : address;
    } catch (err) {
      // Every attempt gets its own number (connectRemoteCb reports it), even a failed one.
      return { id: this.#nextId++, done: Promise.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, 'connect() failed: invalid address', { cause: err })) };
    }
    const auth = toAuthLevel(options.authLevel ?? AuthLevel.none);
    if (!underSocketLimit(this, this.#peers.count + this.#listeners.count)) {
      return { id: this.#nextId++, done: Promise.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, 'connect() failed: Too many open files')) };
    }
    const id = this.#nextId++;
    const signal = options.signal;
    const aborted = () => new AbortError('connect was aborted', { cause: signal!.reason });
    if (signal?.aborted) return { id, done: Promise.reject(aborted()) };
    const deadline = this.#clock.now() + (options.timeout ?? this.remoteConnectTimeout);
    const ephemeral = options.ephemeralRoutingId ?? this.ephemeralRoutingId;
    let done: Promise<ConnectionID>;
    try {
      done = this.#peers.connectRemote(id, addr.zmqAddress(), addr.pubkey ?? new Uint8Array(0), auth, ephemeral, deadline);
    } catch (err) {
      done = Promise.reject(err);
    }
    if (signal !== undefined) {
      const onAbort = () => this.#peers.abandon(id, aborted());
      signal.addEventListener('abort', onAbort, { once: true });
      const off = () => signal.removeEventListener('abort', onAbort);
      done.then(off, off);
    }
    return { id, done };
  }

  #request(to: ConnectionID | Uint8Array, command: string, parts: ReadonlyArray<Uint8Array | string>, opts: RequestOptions): Promise<Uint8Array[]> {
    // Every part is checked before anything is sent: a bad one rejects, and nothing is written.
    const bad = typeof command === 'string' ? checkParts(parts, command) : new TypeError('request: command must be a string');
    if (bad !== undefined) return Promise.reject(bad);
    if (opts.signal?.aborted) return Promise.reject(new AbortError(`request ${command} was aborted`, { cause: opts.signal.reason }));
    const tag = this.#requests.newTag();
    // Sized once: pushing onto [command, tag] would grow it (and allocate) on every request.
    const n = parts.length;
    const frames = new Array<Uint8Array | string>(n + 2);
    frames[0] = commandBytes(command);
    frames[1] = tag;
    for (let i = 0; i < n; i++) frames[i + 2] = parts[i]!;
    const failure = this.#delivery.deliver(to, frames, opts, command);
    if (failure !== undefined) {
      return Promise.reject(
        new RequestError(OmqErrorCode.SEND_FAILED, command, `request ${command} failed: the message could not be sent`, { cause: failure }),
      );
    }
    const timeout = opts.timeout ?? (opts.requestTimeout !== undefined && opts.requestTimeout >= 0 ? opts.requestTimeout : this.defaultRequestTimeout);
    const signal = opts.signal;
    if (signal === undefined) return this.#requests.add(tag, command, to, this.#clock.now() + timeout);
    const onAbort = () => this.#requests.cancel(tag, new AbortError(`request ${command} was aborted`, { cause: signal.reason }));
    const p = this.#requests.add(tag, command, to, this.#clock.now() + timeout, () => signal.removeEventListener('abort', onAbort));
    signal.addEventListener('abort', onAbort, { once: true });
    return p;
  }

  /** The cleanup tick: idle expiry, connect timeouts, request timeouts (upstream `proxy_conn_cleanup`). */
  #armTick(): void {
    this.#tick = this.#clock.setTimeout(() => {
      this.#tick = null;
      if (this.#closed) return;
      const now = this.#clock.now();
      this.#peers.sweep(now);
      this.#requests.sweep(now);
      this.#armTick();
    }, this.connCheckInterval);
  }

  #checkNotStarted(what: string): void {
    if (this.#started) throw new OmqError(OmqErrorCode.INVALID_STATE, `${what}: not allowed after start()`);
  }

  #checkStarted(what: string): void {
    if (!this.#started || this.#closed) throw new OmqError(OmqErrorCode.INVALID_STATE, `${what}: call start() first`);
  }
}

/** Returned by {@link OxenMQ.addCategory}: adds commands to that category. */
export class CategoryHelper {
  constructor(
    private readonly omq: OxenMQ,
    /** The category's name. */
    readonly name: string,
  ) {}
  /** Adds a command; see {@link OxenMQ.addCommand}. */
  addCommand(name: string, handler: CommandHandler): this {
    this.omq.addCommand(this.name, name, handler);
    return this;
  }
  /** Adds a request command; see {@link OxenMQ.addRequestCommand}. */
  addRequestCommand(name: string, handler: CommandHandler): this {
    this.omq.addRequestCommand(this.name, name, handler);
    return this;
  }
}

export type { SendOptions };
