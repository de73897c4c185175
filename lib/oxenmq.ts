/**
 * The OxenMQ instance (PROTOCOL.md §2–§5): listeners with Allow callbacks, outgoing connections
 * by id and by service-node pubkey, the built-in message convention (HI/HELLO, REPLY, BYE and
 * the error replies), command dispatch with its exact check order, requests with tags and one
 * coarse timeout sweep, the active service-node set, idle expiry, and the job scheduler.
 *
 * One event loop plays the C++ proxy thread; handlers run in the scheduler's worker slots.
 */
import { randomFillSync } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { curveClient, curveServer, generateKeypair, publicKeyFromSecret } from '../curve/index.js';
import {
  type AuthDecision,
  type AuthRequest,
  type Clock,
  type MechanismFactory,
  type Peer,
  type TimerHandle,
  ZmtpDealer,
  ZmtpErrorCode,
  ZmtpRouter,
  isZmtpError,
  nullMechanism,
  systemClock,
} from '../zmtp/index.js';
import { Address } from './address.js';
import { type Access, AuthLevel, authLevelName, isAuthLevel, toAccess, toAuthLevel } from './auth.js';
import { ConnectionID } from './connection-id.js';
import { parsePubkey, toHex } from './encoding.js';
import { OmqError, OmqErrorCode, RequestError, type RequestErrorCode } from './errors.js';
import { InprocHub } from './inproc.js';
import { type Logger, silentLogger } from './logger.js';
import { Message } from './message.js';
import { Batch, RUN_IN_PROXY, Scheduler, type SchedulerStats, type TaggedThreadID, type TimerID } from './scheduler.js';
import { type RequestOptions, type SendArg, type SendOptions, collectArgs } from './send.js';

/** Log levels, most severe first; the instance logs at and above its level (default warn). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
const LEVELS: Record<LogLevel, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

/** `allow(address, pubkey, isServiceNode) → AuthLevel`, run once per incoming connection. */
export type AllowFunc = (address: string, pubkey: Uint8Array, isServiceNode: boolean) => AuthLevel | Promise<AuthLevel>;

/** A command handler; may be async (its slot is held until the promise settles). */
export type CommandHandler = (msg: Message) => unknown;

/** Construction options; limits default to the C++ values (PROTOCOL.md §7.6). */
export interface OxenMQOptions {
  /** This instance's X25519 public key (32 bytes or hex); with `privkey`, or neither for a random pair. */
  pubkey?: Uint8Array | string;
  privkey?: Uint8Array | string;
  /** Run as a service node (requires explicit keys). */
  serviceNode?: boolean;
  /** Maps an SN pubkey to an address (`tcp://host:port`, or a curve address); undefined = unknown. */
  snLookup?: (pubkey: Uint8Array) => string | undefined;
  logger?: Logger;
  logLevel?: LogLevel;
  /** ZMTP handshake limit, ms. Default 10 000. */
  handshakeTime?: number;
  /** Announce throw-away routing ids (lets one instance hold several connections to one listener). Default false. */
  ephemeralRoutingId?: boolean;
  /** Routing id form: `'v1.3'` (default: "K"‖keyed hash on CURVE, "R"‖random otherwise) or `'legacy'` ("L"‖pubkey). */
  routingIdFormat?: 'v1.3' | 'legacy';
  /** Largest incoming frame, bytes; −1 unlimited. Default 1 MiB. */
  maxMsgSize?: number;
  /** Most outgoing connections plus listeners. Default 10 000. */
  maxSockets?: number;
  reconnectInterval?: number;
  reconnectIntervalMax?: number;
  /** Linger on closes (idle expiry, SN de-listing, shutdown), ms. Default 5000. */
  closeLinger?: number;
  /** Period of the cleanup tick (idle expiry, connect and request timeouts), ms. Default 250. */
  connCheckInterval?: number;
  /** ZMTP heartbeat interval / timeout, ms; 0 disables. Defaults 15 000 / 30 000. */
  connHeartbeat?: number;
  connHeartbeatTimeout?: number;
  ipv6?: boolean;
  /** Keep-alive of SN connections opened implicitly by send/request, ms. Default 30 000. */
  defaultSendKeepAlive?: number;
  /** Keep-alive of `connectSn` connections, ms. Default 5 minutes (not C++'s 83 h unit bug). */
  defaultConnectSnKeepAlive?: number;
  remoteConnectTimeout?: number;
  inprocConnectTimeout?: number;
  defaultRequestTimeout?: number;
  generalThreads?: number;
  batchThreads?: number;
  replyThreads?: number;
  /** Timer source for the cleanup tick, timers and heartbeats (tests inject a ManualClock). */
  clock?: Clock;
}

/** Options of {@link OxenMQ.connectRemote}. */
export interface ConnectRemoteOptions {
  /** Auth level granted to commands the remote sends us over this connection. Default none. */
  authLevel?: AuthLevel;
  /** Fail unless HELLO arrives within this many ms. Default 10 s. */
  timeout?: number;
  ephemeralRoutingId?: boolean;
}

/** Options of {@link OxenMQ.connectSn}. */
export interface ConnectSnOptions {
  keepAlive?: number;
  hint?: string;
  ephemeralRoutingId?: boolean;
}

/** The callback form of request(): `(success, data)`; on failure `data` is `[reason]`. */
export type RequestCallback = (success: boolean, data: Buffer[]) => void;

interface CommandEntry {
  handler: CommandHandler;
  isRequest: boolean;
}

interface Category {
  name: string;
  /** The name as the scheduler and the wire see it (UTF-8 bytes as latin1), computed once. */
  key: string;
  access: Access;
  commands: Map<string, CommandEntry>;
}

/** What a listener's Allow decision attaches to each connection it admits. */
interface PeerAuth {
  auth: AuthLevel;
}

/** Where a peer's identity and rights come from, per connection. */
type PeerInfo = Pick<Peer<PeerAuth>, 'publicKey' | 'authData' | 'remoteAddress'>;

/** A listener: a ZMTP router, or the built-in in-process one. */
interface Listener {
  id: number;
  curve: boolean;
  bind: string;
  allow: AllowFunc | undefined;
  router?: ZmtpRouter<PeerAuth>;
  inproc?: InprocHub;
  endpoint?: string;
}

/** A link that can carry messages out: a dealer or the client end of an in-process link. */
interface OutLink {
  send(frames: ReadonlyArray<Uint8Array | string>): void;
  close(lingerMs: number): unknown;
}

interface Outgoing {
  id: number;
  kind: 'remote' | 'sn' | 'inproc';
  link: OutLink;
  /** Remote pubkey: the SN's, or the curve address's; empty for plain. */
  pubkey: Uint8Array;
  isSn: boolean;
  authLevel: AuthLevel;
  idleExpiry: number;
  lastActivity: number;
  pending: PendingConnect | undefined;
  closed: boolean;
}

interface PendingConnect {
  deadline: number;
  resolve: (id: ConnectionID) => void;
  reject: (err: OmqError) => void;
}

interface PendingRequest {
  deadline: number;
  command: string;
  resolve: (data: Buffer[]) => void;
  reject: (err: RequestError) => void;
}

type SnRecord = { out: Outgoing; listener?: undefined; route?: undefined } | { out?: undefined; listener: Listener; route: Buffer };

const MAX_CATEGORY_LENGTH = 50;
const MAX_COMMAND_LENGTH = 200;
const TAG_BYTES = 15;
const ERROR_REPLIES = new Set(['FORBIDDEN', 'FORBIDDEN_SN', 'NOT_A_SERVICE_NODE', 'UNKNOWNCOMMAND', 'NO_REPLY_TAG']);
const EMPTY = Buffer.alloc(0);
const FOREVER = 10 * 365 * 24 * 3600 * 1000;
const ROUTING_ID_PERSONALISATION = new TextEncoder().encode('omq-routing-id__');

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
/** Registered names are matched against received bytes: key them by their UTF-8 bytes. */
const nameKey = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export class OxenMQ {
  /** This instance's X25519 public key. */
  readonly pubkey: Uint8Array;
  readonly #privkey: Uint8Array;
  readonly serviceNode: boolean;
  snLookup: ((pubkey: Uint8Array) => string | undefined) | undefined;
  readonly scheduler: Scheduler;
  readonly logger: Logger;

  // Limits (C++ public members); changing one affects connections created afterwards.
  handshakeTime: number;
  ephemeralRoutingId: boolean;
  routingIdFormat: 'v1.3' | 'legacy';
  maxMsgSize: number;
  maxSockets: number;
  reconnectInterval: number;
  reconnectIntervalMax: number;
  closeLinger: number;
  connCheckInterval: number;
  connHeartbeat: number;
  connHeartbeatTimeout: number;
  ipv6: boolean;
  defaultSendKeepAlive: number;
  defaultConnectSnKeepAlive: number;
  remoteConnectTimeout: number;
  inprocConnectTimeout: number;
  defaultRequestTimeout: number;

  readonly #clock: Clock;
  #started = false;
  #closed = false;
  #nextId = 1;
  #tick: TimerHandle | null = null;
  readonly #categories = new Map<string, Category>();
  readonly #aliases = new Map<string, string>();
  readonly #listeners: Listener[] = [];
  readonly #listenerById = new Map<number, Listener>();
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #snPeers = new Map<string, SnRecord[]>();
  readonly #activeSns = new Set<string>();
  /** SNs whose listener refused our handshake, with the time before which we don't redial. */
  readonly #refusedSns = new Map<string, number>();
  readonly #curveClients = new Map<string, MechanismFactory>();
  /** Every `category.command` (wire bytes as latin1) → its entry; built at start(). */
  readonly #commandIndex = new Map<string, { cat: Category; cmd: CommandEntry }>();
  readonly #requests = new Map<string, PendingRequest>();
  readonly #pendingBinds: { listener: Listener; resolve: (ep: string) => void; reject: (e: unknown) => void }[] = [];
  #selfListener: Listener | undefined;
  /** Peers on the built-in listener are this instance itself, with admin rights (§2.5). */
  readonly #selfPeer: PeerInfo;
  #tagPool = Buffer.alloc(0);
  #tagPos = 0;

  constructor(opts: OxenMQOptions = {}) {
    const level = LEVELS[opts.logLevel ?? 'warn'];
    if (level === undefined) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'logLevel must be fatal, error, warn, info, debug or trace');
    this.logger = filterLogger(opts.logger ?? silentLogger, level);
    if ((opts.pubkey === undefined) !== (opts.privkey === undefined)) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'pubkey and privkey must be given together (or neither)');
    }
    if (opts.privkey !== undefined) {
      const sk = parsePubkey(opts.privkey);
      const pk = parsePubkey(opts.pubkey!);
      const derived = publicKeyFromSecret(sk);
      if (Buffer.compare(Buffer.from(derived), Buffer.from(pk)) !== 0) {
        throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'pubkey does not match privkey');
      }
      this.pubkey = Uint8Array.from(pk);
      this.#privkey = Uint8Array.from(sk);
    } else {
      if (opts.serviceNode) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'a service node needs explicit keys');
      const kp = generateKeypair();
      this.pubkey = kp.publicKey;
      this.#privkey = kp.secretKey;
    }
    this.serviceNode = !!opts.serviceNode;
    this.snLookup = opts.snLookup;
    this.#clock = opts.clock ?? systemClock;
    this.handshakeTime = opts.handshakeTime ?? 10_000;
    this.ephemeralRoutingId = opts.ephemeralRoutingId ?? false;
    this.routingIdFormat = opts.routingIdFormat ?? 'v1.3';
    this.maxMsgSize = opts.maxMsgSize ?? 1024 * 1024;
    this.maxSockets = opts.maxSockets ?? 10_000;
    this.reconnectInterval = opts.reconnectInterval ?? 250;
    this.reconnectIntervalMax = opts.reconnectIntervalMax ?? 5000;
    this.closeLinger = opts.closeLinger ?? 5000;
    this.connCheckInterval = opts.connCheckInterval ?? 250;
    this.connHeartbeat = opts.connHeartbeat ?? 15_000;
    this.connHeartbeatTimeout = opts.connHeartbeatTimeout ?? 30_000;
    this.ipv6 = opts.ipv6 ?? false;
    this.defaultSendKeepAlive = opts.defaultSendKeepAlive ?? 30_000;
    this.defaultConnectSnKeepAlive = opts.defaultConnectSnKeepAlive ?? 5 * 60_000;
    this.remoteConnectTimeout = opts.remoteConnectTimeout ?? 10_000;
    this.inprocConnectTimeout = opts.inprocConnectTimeout ?? 50;
    this.defaultRequestTimeout = opts.defaultRequestTimeout ?? 15_000;
    this.#selfPeer = { publicKey: this.pubkey, authData: { auth: AuthLevel.admin }, remoteAddress: '(unknown)' };
    this.scheduler = new Scheduler({
      generalThreads: opts.generalThreads,
      batchThreads: opts.batchThreads,
      replyThreads: opts.replyThreads,
      clock: this.#clock,
      logger: this.logger,
    });
  }

  // ---- registration (before start) ------------------------------------------------------

  /**
   * Adds a command category (§4.1): name 1–50 bytes without '.', unique. `access` is an
   * AuthLevel or `{ auth, remoteSn, localSn }`. Returns a helper to add its commands.
   */
  addCategory(name: string, access: AuthLevel | string | Partial<Access>, reservedThreads = 0, maxQueue = 200): CategoryHelper {
    this.#checkNotStarted('addCategory');
    const key = nameKey(name);
    if (typeof name !== 'string' || key.length === 0 || key.length > MAX_CATEGORY_LENGTH || key.includes('.')) {
      throw new OmqError(OmqErrorCode.REGISTRATION, `invalid category name: must be 1-${MAX_CATEGORY_LENGTH} bytes without '.'`);
    }
    if (this.#categories.has(key)) throw new OmqError(OmqErrorCode.REGISTRATION, `category ${name} already exists`);
    const acc = toAccess(access);
    this.scheduler.addCategory(key, reservedThreads, maxQueue);
    this.#categories.set(key, { name, key, access: acc, commands: new Map() });
    return new CategoryHelper(this, name);
  }

  /** Adds a command to a category; its handler receives a {@link Message}. */
  addCommand(category: string, name: string, handler: CommandHandler): void {
    this.#addCommand(category, name, handler, false);
  }

  /** Adds a request command: its first data frame is taken as the reply tag. */
  addRequestCommand(category: string, name: string, handler: CommandHandler): void {
    this.#addCommand(category, name, handler, true);
  }

  /** Makes `from` an alias of the full command `to` (resolved before any auth check). */
  addCommandAlias(from: string, to: string): void {
    this.#checkNotStarted('addCommandAlias');
    const f = nameKey(from);
    const t = nameKey(to);
    if (f.length === 0 || f.startsWith('.')) throw new OmqError(OmqErrorCode.REGISTRATION, 'alias source must be non-empty and not start with a dot');
    const dot = t.indexOf('.');
    if (dot <= 0) throw new OmqError(OmqErrorCode.REGISTRATION, 'alias target must be category.command');
    if (this.#aliases.has(f)) throw new OmqError(OmqErrorCode.REGISTRATION, `alias ${from} already exists`);
    if (this.#lookupExact(f) !== undefined) throw new OmqError(OmqErrorCode.REGISTRATION, `alias ${from} would shadow an existing command`);
    this.#aliases.set(f, t);
  }

  // ---- scheduler pass-through -------------------------------------------------------------

  setGeneralThreads(n: number): void {
    this.scheduler.setGeneralThreads(n);
  }
  setBatchThreads(n: number): void {
    this.scheduler.setBatchThreads(n);
  }
  setReplyThreads(n: number): void {
    this.scheduler.setReplyThreads(n);
  }
  /** Adds a named serial queue (before start). */
  addTaggedThread(name: string, start?: () => unknown): TaggedThreadID {
    return this.scheduler.addTaggedThread(name, start);
  }
  /** Submits a batch of jobs (§6.6). */
  batch<R>(b: Batch<R>): void {
    this.scheduler.batch(b);
  }
  /** Queues one job on the batch queue (or a tagged thread). */
  job(fn: () => unknown, thread?: TaggedThreadID): void {
    this.scheduler.job(fn, thread);
  }
  /** Runs `fn` every `intervalMs` as a batch job (§6.8). */
  addTimer(fn: () => unknown, intervalMs: number, options?: { squelch?: boolean; thread?: TaggedThreadID }): TimerID {
    return this.scheduler.addTimer(fn, intervalMs, options);
  }
  cancelTimer(id: TimerID): void {
    this.scheduler.cancelTimer(id);
  }
  /** Runs `fn` as if it were a command of `category` (§6.9): same admission and queue limits. */
  injectTask(category: string, command: string, remote: string, fn: (() => unknown) | null | undefined): void {
    this.scheduler.injectTask(nameKey(category), command, remote, fn);
  }
  /** Scheduler counters, for monitoring and tests. */
  stats(): SchedulerStats {
    return this.scheduler.stats();
  }

  // ---- listening ----------------------------------------------------------------------------

  /** Listens for CURVE connections; resolves with the bound endpoint (once started). */
  listenCurve(bind: string, allow?: AllowFunc, onBind?: (ok: boolean) => void): Promise<string> {
    return this.#listen(bind, true, allow, onBind);
  }

  /** Listens for plaintext (NULL) connections; resolves with the bound endpoint (once started). */
  listenPlain(bind: string, allow?: AllowFunc, onBind?: (ok: boolean) => void): Promise<string> {
    return this.#listen(bind, false, allow, onBind);
  }

  /** Starts the scheduler, binds the listeners added so far and begins the cleanup tick. */
  async start(): Promise<void> {
    if (this.#closed) throw new OmqError(OmqErrorCode.CLOSED, 'instance is closed');
    if (this.#started) throw new OmqError(OmqErrorCode.INVALID_STATE, 'already started');
    this.#started = true;
    // Registration is frozen from here on: index every full command name once, so dispatch is a
    // single map lookup (§4.2's split at the first dot gives the same answer for every name).
    for (const [catKey, cat] of this.#categories) {
      for (const [cmdKey, cmd] of cat.commands) this.#commandIndex.set(`${catKey}.${cmdKey}`, { cat, cmd });
    }
    this.scheduler.start();
    this.#selfListener = { id: this.#nextId++, curve: false, bind: 'inproc://sn-self', allow: undefined };
    this.#listenerById.set(this.#selfListener.id, this.#selfListener);
    this.#armTick();
    const binds = this.#pendingBinds.splice(0);
    const results = await Promise.allSettled(binds.map((b) => this.#bindListener(b.listener)));
    results.forEach((r, i) => (r.status === 'fulfilled' ? binds[i]!.resolve(r.value) : binds[i]!.reject(r.reason)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  /**
   * Shuts down: stops the tick and the scheduler, fails pending requests with TIMEOUT, and
   * closes every connection and listener with `lingerMs` for queued messages. No goodbye is
   * sent (as C++).
   */
  async close(lingerMs = this.closeLinger): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== null) this.#clock.clearTimeout(this.#tick);
    this.#tick = null;
    for (const [key, r] of this.#requests) {
      this.#requests.delete(key);
      r.reject(new RequestError('TIMEOUT', r.command, `request ${r.command} failed: the instance was closed`));
    }
    const waits: Promise<unknown>[] = [];
    for (const out of this.#outgoing.values()) {
      out.closed = true;
      out.pending?.reject(new OmqError(OmqErrorCode.CLOSED, 'instance closed before the connection was established'));
      waits.push(Promise.resolve(out.link.close(lingerMs)));
    }
    this.#outgoing.clear();
    this.#snPeers.clear();
    for (const l of this.#listeners) if (l.router) waits.push(l.router.close(lingerMs));
    for (const b of this.#pendingBinds.splice(0)) b.reject(new OmqError(OmqErrorCode.CLOSED, 'instance closed before start'));
    waits.push(this.scheduler.close());
    await Promise.all(waits);
  }

  // ---- service nodes ------------------------------------------------------------------------

  /** Replaces the active service-node set (§2.6). */
  setActiveSns(pubkeys: Iterable<Uint8Array | string>): void {
    const next = new Set<string>();
    for (const k of pubkeys) {
      const key = this.#snKeyOrWarn(k);
      if (key !== undefined) next.add(key);
    }
    const removed = [...this.#activeSns].filter((k) => !next.has(k));
    this.#activeSns.clear();
    for (const k of next) this.#activeSns.add(k);
    this.#dropSns(removed);
  }

  /** Adds and removes service nodes; a key in both lists counts as added. */
  updateActiveSns(added: Iterable<Uint8Array | string>, removed: Iterable<Uint8Array | string>): void {
    const add = new Set<string>();
    for (const k of added) {
      const key = this.#snKeyOrWarn(k);
      if (key !== undefined) add.add(key);
    }
    const gone: string[] = [];
    for (const k of removed) {
      const key = this.#snKeyOrWarn(k);
      if (key !== undefined && !add.has(key) && this.#activeSns.delete(key)) gone.push(key);
    }
    for (const k of add) this.#activeSns.add(k);
    this.#dropSns(gone);
  }

  /** True if `pubkey` is in the active service-node set. */
  isActiveSn(pubkey: Uint8Array): boolean {
    return pubkey.length === 32 && this.#activeSns.has(latin1(pubkey));
  }

  // ---- connecting ---------------------------------------------------------------------------

  /**
   * Connects to a remote listener at `address` (a plain `tcp://`/`ipc://` or a curve address,
   * §7.2) and resolves on its HELLO with the connection's ID (carrying the remote pubkey for
   * curve). Rejects with CONNECT_FAILED on timeout (`"connection attempt timed out"`), refusal
   * or a bad address.
   */
  connectRemote(address: string | Address, options: ConnectRemoteOptions = {}): Promise<ConnectionID> {
    this.#checkStarted('connectRemote');
    let addr: Address;
    try {
      addr = typeof address === 'string' ? Address.parse(address) : address;
    } catch (err) {
      this.#nextId++; // every attempt gets its own id (connectRemoteCb reports it), even a failed one
      return Promise.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, 'connect() failed: invalid address', { cause: err }));
    }
    const auth = toAuthLevel(options.authLevel ?? AuthLevel.none);
    if (this.#outgoing.size + this.#listeners.length >= this.maxSockets) {
      this.#nextId++;
      return Promise.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, 'connect() failed: Too many open files'));
    }
    const pubkey = addr.pubkey ?? EMPTY;
    const ephemeral = options.ephemeralRoutingId ?? this.ephemeralRoutingId;
    return new Promise<ConnectionID>((resolve, reject) => {
      const out = this.#openOutgoing('remote', addr.zmqAddress(), pubkey, false, auth, FOREVER, ephemeral);
      out.pending = {
        deadline: this.#clock.now() + (options.timeout ?? this.remoteConnectTimeout),
        resolve,
        reject,
      };
      out.link.send(['HI']);
    });
  }

  /** Callback form of {@link connectRemote} (C++ `connect_remote(addr, on_connect, on_failure)`); returns the ID at once. */
  connectRemoteCb(
    address: string | Address,
    onConnect: (id: ConnectionID) => void,
    onFailure: (id: ConnectionID, reason: string) => void,
    options: ConnectRemoteOptions = {},
  ): ConnectionID {
    const idNum = this.#nextId; // connectRemote allocates this id synchronously
    const id = new ConnectionID(idNum);
    this.connectRemote(address, options).then(
      (cid) => this.scheduler.submitReply(() => onConnect(cid), 'connect success'),
      (err: OmqError) => this.scheduler.submitBatchJob(() => onFailure(id, err.message), 'connect failure'),
    );
    return id;
  }

  /** Connects to this instance's own built-in in-process listener; admin access by default. */
  connectInproc(options: ConnectRemoteOptions = {}): Promise<ConnectionID> {
    this.#checkStarted('connectInproc');
    const self = this.#selfListener!;
    const auth = toAuthLevel(options.authLevel ?? AuthLevel.admin);
    const hub = (self.inproc ??= new InprocHub((frames, route) => this.#onListenerMessage(self, frames, route, this.#selfPeer)));
    return new Promise<ConnectionID>((resolve, reject) => {
      const id = this.#nextId++;
      const client = hub.connect((frames) => this.#onOutgoingMessage(out, frames));
      const out: Outgoing = {
        id,
        kind: 'inproc',
        link: client,
        pubkey: this.pubkey,
        isSn: false,
        authLevel: auth,
        idleExpiry: FOREVER,
        lastActivity: this.#clock.now(),
        pending: { deadline: this.#clock.now() + (options.timeout ?? this.inprocConnectTimeout), resolve, reject },
        closed: false,
      };
      this.#outgoing.set(id, out);
      client.send(['HI']);
    });
  }

  /**
   * Ensures an outgoing connection to the service node `pubkey` (using `hint` or `snLookup`)
   * and returns its SN-form ID. Reports neither success nor failure (as C++).
   */
  connectSn(pubkey: Uint8Array | string, options: ConnectSnOptions = {}): ConnectionID {
    this.#checkStarted('connectSn');
    const pk = parsePubkey(pubkey);
    this.#snTarget(pk, {
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
    let out: Outgoing | undefined;
    if (cid.isSn) {
      out = this.#snPeers.get(latin1(cid.pubkey))?.find((r) => r.out !== undefined)?.out;
    } else if (cid.route.length === 0) {
      out = this.#outgoing.get(cid.id);
    }
    if (out === undefined) {
      this.logger.warn(`disconnect: ${cid.toString()} is not an outgoing connection`);
      return;
    }
    this.#closeOutgoing(out, lingerMs, 'disconnected before the connection was established');
  }

  // ---- sending ------------------------------------------------------------------------------

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
    const { frames, opts } = collectArgs([command], args);
    this.#route(to, frames, opts, command);
  }

  /**
   * Sends a request `[command][tag][parts…]` and resolves with the reply's parts; rejects with a
   * {@link RequestError} (`TIMEOUT`, `FORBIDDEN`, `FORBIDDEN_SN`, `NOT_A_SERVICE_NODE`, …).
   */
  request(to: ConnectionID | Uint8Array, command: string, parts?: ReadonlyArray<Uint8Array | string>, options?: RequestOptions): Promise<Buffer[]>;
  /** Callback form (C++ `request(conn, cmd, callback, parts…)`): `cb(success, data)`. */
  request(to: ConnectionID | Uint8Array, command: string, callback: RequestCallback, ...args: SendArg[]): void;
  request(
    to: ConnectionID | Uint8Array,
    command: string,
    partsOrCb?: ReadonlyArray<Uint8Array | string> | RequestCallback,
    ...rest: unknown[]
  ): Promise<Buffer[]> | void {
    if (typeof partsOrCb === 'function') {
      const cb = partsOrCb;
      const { frames, opts } = collectArgs([], rest as SendArg[]);
      this.#request(to, command, frames, opts).then(
        (data) => this.scheduler.submitReply(() => cb(true, data), `reply to ${command}`),
        (err: RequestError) =>
          err.code === 'TIMEOUT'
            ? this.scheduler.submitBatchJob(() => cb(false, [Buffer.from(err.code)]), `timeout of ${command}`)
            : this.scheduler.submitReply(() => cb(false, [Buffer.from(err.code)]), `error reply to ${command}`),
      );
      return;
    }
    return this.#request(to, command, partsOrCb ?? [], (rest[0] as RequestOptions | undefined) ?? {});
  }

  // ---- internals: registration --------------------------------------------------------------

  #addCommand(category: string, name: string, handler: CommandHandler, isRequest: boolean): void {
    this.#checkNotStarted('addCommand');
    if (typeof handler !== 'function') throw new TypeError('command handler must be a function');
    const cat = this.#categories.get(nameKey(category));
    if (cat === undefined) throw new OmqError(OmqErrorCode.REGISTRATION, `no such category ${category}`);
    const key = nameKey(name);
    if (key.length > MAX_COMMAND_LENGTH) throw new OmqError(OmqErrorCode.REGISTRATION, `command name longer than ${MAX_COMMAND_LENGTH} bytes`);
    if (cat.commands.has(key)) throw new OmqError(OmqErrorCode.REGISTRATION, `command ${category}.${name} already exists`);
    if (this.#aliases.has(nameKey(category) + '.' + key)) {
      throw new OmqError(OmqErrorCode.REGISTRATION, `command ${category}.${name} collides with an alias`);
    }
    cat.commands.set(key, { handler, isRequest });
  }

  #lookupExact(full: string): { cat: Category; cmd: CommandEntry } | undefined {
    const dot = full.indexOf('.');
    if (dot <= 0) return undefined;
    const cat = this.#categories.get(full.slice(0, dot));
    const cmd = cat?.commands.get(full.slice(dot + 1));
    return cat && cmd ? { cat, cmd } : undefined;
  }

  // ---- internals: listeners -----------------------------------------------------------------

  #listen(bind: string, curve: boolean, allow: AllowFunc | undefined, onBind?: (ok: boolean) => void): Promise<string> {
    if (this.#closed) return Promise.reject(new OmqError(OmqErrorCode.CLOSED, 'instance is closed'));
    if (typeof bind !== 'string' || bind.startsWith('inproc://')) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'listen: inproc:// addresses cannot be listened on');
    }
    const listener: Listener = { id: this.#nextId++, curve, bind, allow };
    this.#listeners.push(listener);
    this.#listenerById.set(listener.id, listener);
    let p: Promise<string>;
    if (this.#started) {
      p = this.#bindListener(listener);
    } else {
      p = new Promise<string>((resolve, reject) => this.#pendingBinds.push({ listener, resolve, reject }));
    }
    p.then(
      () => onBind?.(true),
      () => onBind?.(false),
    );
    // The caller may ignore the promise (C++ style, relying on onBind or start()): never let
    // that become an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  async #bindListener(l: Listener): Promise<string> {
    const mechanism: MechanismFactory = l.curve ? curveServer({ publicKey: this.pubkey, secretKey: this.#privkey }) : nullMechanism;
    const router = new ZmtpRouter<PeerAuth>({
      ...this.#zmtpOptions(),
      mechanism,
      authenticate: (req) => this.#authenticate(l, req),
    });
    router.onMessage = (frames, route, peer) => this.#onListenerMessage(l, frames, route, peer);
    router.on('handshake-failed', (err, address) => this.logger.info?.(`handshake with ${address} failed: ${err.message}`));
    // An SN's incoming route dies with its connection: forget it, or sends would keep trying it.
    router.on('disconnect', (peer, route) => {
      if (route !== null && peer.publicKey?.length === 32) {
        this.#removeSnRecord(latin1(peer.publicKey), (r) => r.listener === l && r.route.equals(route));
      }
    });
    // Visible to close() while the bind is under way: close() then closes it, and the bind fails.
    l.router = router;
    try {
      l.endpoint = await router.bind(l.bind);
    } catch (err) {
      l.router = undefined;
      this.#listeners.splice(this.#listeners.indexOf(l), 1);
      this.#listenerById.delete(l.id);
      await router.close();
      if (this.#closed) throw new OmqError(OmqErrorCode.CLOSED, 'instance closed while binding', { cause: err });
      throw new OmqError(OmqErrorCode.INVALID_STATE, `cannot listen on ${l.bind}`, { cause: err });
    }
    return l.endpoint;
  }

  /** The Allow callback behind the ZMTP authentication hook (§2.2 steps 6–10). */
  #authenticate(l: Listener, req: AuthRequest): AuthDecision<PeerAuth> | Promise<AuthDecision<PeerAuth>> {
    let address = req.address;
    if (address.length >= 14 && address.startsWith('::ffff:') && /^[0-9.]+$/.test(address.slice(7))) address = address.slice(7);
    const pubkey = l.curve && req.publicKey ? Uint8Array.from(req.publicKey) : new Uint8Array(0);
    const sn = l.curve && pubkey.length === 32 && this.#activeSns.has(latin1(pubkey));
    const decide = (level: unknown): AuthDecision<PeerAuth> => {
      if (!isAuthLevel(level) || level === AuthLevel.denied) {
        this.logger.info?.(`denied connection from ${address}`);
        return { allow: false, status: '400' };
      }
      return { allow: true, data: { auth: level } };
    };
    if (l.allow === undefined) return decide(AuthLevel.none);
    const r = l.allow(address, pubkey, sn);
    return r instanceof Promise ? r.then(decide) : decide(r);
  }

  // ---- internals: outgoing connections ------------------------------------------------------

  #zmtpOptions() {
    return {
      handshakeTimeout: this.handshakeTime,
      maxMessageSize: this.maxMsgSize,
      heartbeatInterval: this.connHeartbeat,
      heartbeatTimeout: this.connHeartbeat > 0 ? this.connHeartbeatTimeout : 0,
      reconnectInterval: this.reconnectInterval,
      reconnectIntervalMax: this.reconnectIntervalMax,
      ipv6: this.ipv6,
      clock: this.#clock,
      logger: this.logger,
    };
  }

  /**
   * One CURVE client factory per server key: building one imports our secret key and checks the
   * server key (≈120 µs), which every connection to that server would otherwise pay again.
   */
  #curveClientFor(serverKey: Uint8Array): MechanismFactory {
    const key = latin1(serverKey);
    let f = this.#curveClients.get(key);
    if (f === undefined) {
      if (this.#curveClients.size >= 1024) this.#curveClients.clear(); // bounded, not an LRU: rebuilding is cheap
      f = curveClient({ serverKey, publicKey: this.pubkey, secretKey: this.#privkey });
      this.#curveClients.set(key, f);
    }
    return f;
  }

  /** The routing id for a new outgoing connection (PROTOCOL-NOTES §6, PROTOCOL §1.3). */
  #routingId(remotePubkey: Uint8Array, ephemeral: boolean): Uint8Array {
    if (this.routingIdFormat === 'legacy') {
      return ephemeral ? new Uint8Array(0) : Buffer.concat([Buffer.from('L'), this.pubkey]);
    }
    if (!ephemeral && remotePubkey.length === 32) {
      const h = blake2b(remotePubkey, { dkLen: 32, key: this.#privkey, personalization: ROUTING_ID_PERSONALISATION });
      return Buffer.concat([Buffer.from('K'), h]);
    }
    const id = Buffer.allocUnsafe(33);
    id[0] = 0x52; // 'R'
    randomFillSync(id, 1);
    return id;
  }

  #openOutgoing(
    kind: 'remote' | 'sn',
    endpoint: string,
    pubkey: Uint8Array,
    isSn: boolean,
    auth: AuthLevel,
    idleExpiry: number,
    ephemeral: boolean,
  ): Outgoing {
    const id = this.#nextId++;
    // A bad endpoint (e.g. a wildcard host from snLookup) or an unusable server key throws here:
    // report it as a failed connect and register nothing, so no dead record lingers behind.
    let dealer: ZmtpDealer;
    try {
      const mechanism = pubkey.length === 32 ? this.#curveClientFor(pubkey) : nullMechanism;
      dealer = new ZmtpDealer({ ...this.#zmtpOptions(), mechanism, identity: this.#routingId(pubkey, ephemeral) });
      dealer.connect(endpoint);
    } catch (err) {
      throw new OmqError(OmqErrorCode.CONNECT_FAILED, `connect() failed: ${(err as Error).message}`, { cause: err });
    }
    const out: Outgoing = {
      id,
      kind,
      link: dealer,
      pubkey,
      isSn,
      authLevel: auth,
      idleExpiry,
      lastActivity: this.#clock.now(),
      pending: undefined,
      closed: false,
    };
    dealer.onMessage = (frames, conn) => this.#onOutgoingMessage(out, frames, conn.remoteAddress);
    dealer.on('failed', (err) => {
      this.logger.warn(`connection to ${endpoint} refused: ${err.message}`);
      if (out.pending) this.#closeOutgoing(out, 0, `connection refused: ${err.message}`, err);
      else if (out.isSn) {
        // libzmq never retries a refused DEALER, and C++ keeps the dead record, so every later
        // send fails while each send keeps it "active". Forget it, so a later send can connect
        // again, but not before reconnectIntervalMax: a peer that denies us must not get a
        // new connection per message.
        this.#refusedSns.set(latin1(out.pubkey), this.#clock.now() + this.reconnectIntervalMax);
        this.#closeOutgoing(out, 0, 'refused');
      }
    });
    this.#outgoing.set(out.id, out);
    if (isSn) this.#addSnRecord(latin1(pubkey), { out });
    return out;
  }

  /** Closes an outgoing connection, forgets its records and fails its pending connect. */
  #closeOutgoing(out: Outgoing, lingerMs: number, pendingReason: string, cause?: unknown): void {
    if (out.closed) return;
    out.closed = true;
    this.#outgoing.delete(out.id);
    if (out.isSn) this.#removeSnRecord(latin1(out.pubkey), (r) => r.out === out);
    if (out.pending) {
      const p = out.pending;
      out.pending = undefined;
      p.reject(new OmqError(OmqErrorCode.CONNECT_FAILED, pendingReason, { cause }));
    }
    void out.link.close(lingerMs);
  }

  #addSnRecord(key: string, rec: SnRecord): void {
    const list = this.#snPeers.get(key);
    if (list === undefined) this.#snPeers.set(key, [rec]);
    else list.push(rec);
  }

  #removeSnRecord(key: string, match: (r: SnRecord) => boolean): void {
    const list = this.#snPeers.get(key);
    if (!list) return;
    const kept = list.filter((r) => !match(r));
    if (kept.length === 0) this.#snPeers.delete(key);
    else this.#snPeers.set(key, kept);
  }

  #dropSns(keys: string[]): void {
    for (const key of keys) {
      const list = this.#snPeers.get(key);
      if (!list) continue;
      this.#snPeers.delete(key);
      for (const r of list) if (r.out) this.#closeOutgoing(r.out, this.closeLinger, 'service node was removed from the active set');
    }
  }

  #snKeyOrWarn(k: Uint8Array | string): string | undefined {
    try {
      return latin1(parsePubkey(k));
    } catch {
      this.logger.warn('ignoring an invalid service node pubkey (not 32 bytes)');
      return undefined;
    }
  }

  /** get-SN-connection (§5.4): an existing record, or a new outgoing connection, or undefined. */
  #snTarget(
    pk: Uint8Array,
    o: { hint?: string; keepAlive: number; ephemeral: boolean; optional: boolean; incoming: boolean; outgoing: boolean },
  ): SnRecord | undefined {
    const key = latin1(pk);
    const list = this.#snPeers.get(key);
    if (list) {
      // Prefer the most recent record (C++ leaves the choice to hash-map order, NOTES §11).
      for (let i = list.length - 1; i >= 0; i--) {
        const r = list[i]!;
        if (r.out && o.incoming) continue;
        if (r.listener && o.outgoing) continue;
        if (r.out) {
          r.out.idleExpiry = Math.max(r.out.idleExpiry, o.keepAlive);
          r.out.lastActivity = this.#clock.now();
        }
        return r;
      }
    }
    if (o.optional || o.incoming) return undefined;
    const refusedUntil = this.#refusedSns.get(key);
    if (refusedUntil !== undefined) {
      if (this.#clock.now() < refusedUntil) {
        this.logger.debug?.(`service node ${toHex(pk)} refused us recently; not reconnecting yet`);
        return undefined;
      }
      this.#refusedSns.delete(key);
    }
    const address = o.hint || this.snLookup?.(Uint8Array.from(pk));
    if (!address) {
      this.logger.warn(`no address known for service node ${toHex(pk)}`);
      return undefined;
    }
    let endpoint: string;
    try {
      endpoint = address.includes('curve://') ? Address.parse(address).zmqAddress() : address;
    } catch (err) {
      this.logger.warn(`invalid address for service node ${toHex(pk)}`, err);
      return undefined;
    }
    if (this.#outgoing.size + this.#listeners.length >= this.maxSockets) {
      this.logger.warn('connect() failed: Too many open files');
      return undefined;
    }
    try {
      return { out: this.#openOutgoing('sn', endpoint, Uint8Array.from(pk), true, AuthLevel.none, o.keepAlive, o.ephemeral) };
    } catch (err) {
      this.logger.warn(`cannot connect to service node ${toHex(pk)}: ${(err as Error).message}`);
      return undefined;
    }
  }

  // ---- internals: routing -------------------------------------------------------------------

  /** Routes one message (§5.6); returns true if it was queued for sending. */
  #route(to: ConnectionID | Uint8Array, frames: (Uint8Array | string)[], opts: SendOptions, command: string): boolean {
    const cid = to instanceof ConnectionID ? to : to instanceof Uint8Array && to.length === 32 ? ConnectionID.sn(to) : undefined;
    if (cid === undefined) throw new TypeError('send target must be a ConnectionID or a 32-byte service node pubkey');
    if (this.#closed) return this.#notSent(opts, command, new OmqError(OmqErrorCode.CLOSED, 'instance is closed'));
    if (cid.isSn) {
      // Each failed attempt drops one stale record, so this ends: at most every record, then one
      // fresh connection.
      const attempts = (this.#snPeers.get(latin1(cid.pubkey))?.length ?? 0) + 1;
      for (let attempt = 0; attempt < attempts; attempt++) {
        const rec = this.#snTarget(cid.pubkey, {
          hint: opts.hint,
          keepAlive: opts.keepAlive !== undefined && opts.keepAlive >= 0 ? opts.keepAlive : this.defaultSendKeepAlive,
          ephemeral: this.ephemeralRoutingId,
          optional: !!opts.optional,
          incoming: !!opts.incoming,
          outgoing: !!opts.outgoing,
        });
        if (rec === undefined) {
          return this.#notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, `no connection to ${cid.toString()}`));
        }
        if (rec.out) return this.#sendOut(rec.out, frames, opts, command);
        try {
          // The record may be on the built-in in-process listener (our own key in the active set).
          if (rec.listener.inproc) rec.listener.inproc.send(rec.route, frames);
          else rec.listener.router!.send(rec.route, frames);
          return true;
        } catch (err) {
          if (isZmtpError(err, ZmtpErrorCode.HOST_UNREACHABLE)) {
            // The SN's incoming connection is gone: forget it and route again (NOTES §2's intent).
            this.#removeSnRecord(latin1(cid.pubkey), (r) => r === rec);
            continue;
          }
          return this.#notSent(opts, command, err);
        }
      }
      return this.#notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, `no connection to ${cid.toString()}`));
    }
    if (cid.route.length > 0) {
      const l = this.#listenerById.get(cid.id);
      if (l === undefined) return this.#notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, 'listener no longer exists'));
      try {
        if (l.inproc) l.inproc.send(cid.route, frames);
        else if (l.router) l.router.send(cid.route, frames);
        else return this.#notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, 'listener is not bound'));
        return true;
      } catch (err) {
        if (isZmtpError(err, ZmtpErrorCode.HOST_UNREACHABLE)) {
          this.logger.debug?.(`${cid.toString()} has disconnected; dropping ${safeName(command)}`);
        }
        return this.#notSent(opts, command, err);
      }
    }
    const out = this.#outgoing.get(cid.id);
    if (out === undefined) {
      this.logger.warn(`${cid.toString()} is not a valid outgoing connection; dropping ${safeName(command)}`);
      return this.#notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, 'not a valid outgoing connection'));
    }
    return this.#sendOut(out, frames, opts, command);
  }

  #sendOut(out: Outgoing, frames: (Uint8Array | string)[], opts: SendOptions, command: string): boolean {
    try {
      out.link.send(frames);
      return true;
    } catch (err) {
      return this.#notSent(opts, command, err);
    }
  }

  /**
   * Reports a message that was not sent. C++ calls queue_full for every kind of non-delivery
   * (NOTES §7); we say which: `queueFull` only when the queue was at its high-water mark,
   * `queueFailure` (with the reason) for everything else, and for a full queue too when no
   * `queueFull` was given. A caller that only passed `queueFull` is not told about, e.g., an
   * optional send dropped for want of a connection — as send.ts documents.
   */
  #notSent(opts: SendOptions, command: string, cause: unknown): false {
    const full = isZmtpError(cause, ZmtpErrorCode.QUEUE_FULL);
    this.logger.debug?.(`message ${safeName(command)} not sent: ${(cause as Error).message}`);
    const err = cause instanceof OmqError ? cause : new OmqError(OmqErrorCode.SEND_FAILED, `message not sent: ${(cause as Error).message}`, { cause });
    if (full && opts.queueFull) this.scheduler.submitBatchJob(() => opts.queueFull!(), 'queue full callback');
    else if (opts.queueFailure) this.scheduler.submitBatchJob(() => opts.queueFailure!(err), 'send failure callback');
    return false;
  }

  #request(to: ConnectionID | Uint8Array, command: string, parts: ReadonlyArray<Uint8Array | string>, opts: RequestOptions): Promise<Buffer[]> {
    const tag = this.#newTag();
    const frames: (Uint8Array | string)[] = [command, tag];
    for (const p of parts) frames.push(p);
    return new Promise<Buffer[]>((resolve, reject) => {
      if (!this.#route(to, frames, opts, command)) {
        reject(new RequestError('TIMEOUT', command, `request ${command} failed: the message could not be sent`));
        return;
      }
      const timeout = opts.timeout ?? (opts.requestTimeout !== undefined && opts.requestTimeout >= 0 ? opts.requestTimeout : this.defaultRequestTimeout);
      this.#requests.set(latin1(tag), { deadline: this.#clock.now() + timeout, command, resolve, reject });
    });
  }

  /** 15 bytes from a CSPRNG, drawn from a refilled pool so each tag costs one slice. */
  #newTag(): Buffer {
    if (this.#tagPos + TAG_BYTES > this.#tagPool.length) {
      this.#tagPool = randomFillSync(Buffer.allocUnsafe(TAG_BYTES * 256));
      this.#tagPos = 0;
    }
    const t = this.#tagPool.subarray(this.#tagPos, this.#tagPos + TAG_BYTES);
    this.#tagPos += TAG_BYTES;
    return t;
  }

  // ---- internals: incoming messages (§3.4, §4) ----------------------------------------------

  #onListenerMessage(l: Listener, frames: Buffer[], route: Buffer, peer: PeerInfo): void {
    if (frames.length === 0) return;
    const b = this.#builtin(frames[0]!, frames, false);
    if (b === 'HI') return this.#replyOn(l, route, ['HELLO']);
    if (b !== undefined) return;
    const isSelf = l === this.#selfListener;
    const pubkey = isSelf ? this.pubkey : l.curve && peer.publicKey ? peer.publicKey : EMPTY;
    const auth = peer.authData?.auth ?? AuthLevel.none;
    const key = pubkey.length === 32 ? latin1(pubkey) : undefined;
    const sn = key !== undefined && this.#activeSns.has(key);
    let conn: ConnectionID;
    if (sn) {
      conn = ConnectionID.sn(pubkey);
      const list = this.#snPeers.get(key);
      if (!list?.some((r) => r.listener === l && r.route.equals(route))) this.#addSnRecord(key, { listener: l, route: Buffer.from(route) });
    } else {
      conn = new ConnectionID(l.id, pubkey, route);
    }
    this.#dispatch(frames, conn, auth, sn, peer.remoteAddress, l, route, undefined);
  }

  /** Sends on the connection a message came in on; a failure (peer gone, queue full) is ignored (§4.3). */
  #replyOn(l: Listener | undefined, route: Buffer | undefined, msg: (Uint8Array | string)[], out?: Outgoing): void {
    try {
      if (out) out.link.send(msg);
      else if (l!.inproc) l!.inproc.send(route!, msg);
      else l!.router!.send(route!, msg);
    } catch {
      // ignored, as C++
    }
  }

  #onOutgoingMessage(out: Outgoing, frames: Buffer[], remote = '(unknown)'): void {
    if (out.closed || frames.length === 0) return;
    const b = this.#builtin(frames[0]!, frames, true);
    if (b === 'HELLO') {
      const p = out.pending;
      if (p) {
        out.pending = undefined;
        p.resolve(new ConnectionID(out.id, out.pubkey));
      }
      return;
    }
    if (b === 'BYE') {
      // C++ 1.2 closes but keeps a dangling record (NOTES §3); we treat BYE as disconnect(linger 0).
      this.#closeOutgoing(out, 0, 'peer said BYE');
      return;
    }
    if (b !== undefined) return;
    const conn = out.isSn ? ConnectionID.sn(out.pubkey) : new ConnectionID(out.id, out.pubkey);
    this.#dispatch(frames, conn, out.authLevel, out.isSn, remote, undefined, undefined, out);
  }

  /**
   * Handles the built-in messages; returns the built-in's name when it was one (handled or
   * ignored), or undefined for a command to dispatch. `outgoing` says which side we are.
   */
  #builtin(first: Buffer, frames: Buffer[], outgoing: boolean): string | undefined {
    const n = first.length;
    // Every built-in name is 2–18 upper-case bytes; application commands contain a dot.
    if (n < 2 || n > 18 || first[0]! < 0x41 || first[0]! > 0x5a) return undefined;
    const name = first.toString('latin1');
    switch (name) {
      case 'REPLY': {
        if (frames.length < 2) return name;
        const key = latin1(frames[1]!);
        const r = this.#requests.get(key);
        if (r === undefined) {
          this.logger.debug?.('received REPLY with an unknown or expired tag');
          return name;
        }
        this.#requests.delete(key);
        r.resolve(frames.slice(2));
        return name;
      }
      case 'HI':
        if (outgoing) this.logger.warn('received HI on an outgoing connection; ignoring');
        return name;
      case 'HELLO':
      case 'BYE':
        if (!outgoing) {
          this.logger.warn(`received ${name} on a listener; ignoring`);
          return 'ignored';
        }
        return name;
      default:
        if (!ERROR_REPLIES.has(name)) return undefined;
        if (frames.length === 1 && name === 'UNKNOWNCOMMAND') return name; // pre-1.1.0 peers
        if (frames.length === 3 && frames[1]!.length === 5 && frames[1]!.toString('latin1') === 'REPLY') {
          const key = latin1(frames[2]!);
          const r = this.#requests.get(key);
          if (r) {
            this.#requests.delete(key);
            r.reject(new RequestError(name as RequestErrorCode, r.command));
          } else {
            this.logger.warn(`received ${name} for an unknown request tag`);
          }
          return name;
        }
        this.logger.warn(`received ${name}${frames.length > 1 ? ` for ${safeName(frames[1]!.toString('latin1'))}` : ''}`);
        return name;
    }
  }

  /**
   * Command lookup and the checks of §4.3, then admission to the scheduler (§6.2). The message
   * came in on listener `l` at `route`, or on outgoing connection `out`; error replies go back
   * the same way.
   */
  #dispatch(
    frames: Buffer[],
    conn: ConnectionID,
    auth: AuthLevel,
    remoteSn: boolean,
    remote: string,
    l: Listener | undefined,
    route: Buffer | undefined,
    out: Outgoing | undefined,
  ): void {
    const raw = frames[0]!;
    let name = raw.length <= MAX_CATEGORY_LENGTH + 1 + MAX_COMMAND_LENGTH ? raw.toString('latin1') : undefined;
    let found: { cat: Category; cmd: CommandEntry } | undefined;
    if (name !== undefined) {
      if (this.#aliases.size > 0) name = this.#aliases.get(name) ?? name;
      found = this.#commandIndex.get(name);
    }
    let err: string;
    if (found === undefined) {
      this.logger.warn(`invalid command ${name === undefined ? '(over-long command)' : safeName(raw.toString('latin1'))} from ${conn.toString()}`);
      err = 'UNKNOWNCOMMAND';
    } else {
      const { cat, cmd } = found;
      if (auth < cat.access.auth) {
        this.logger.info?.(`access denied to ${safeName(name!)} for ${conn.toString()} (${authLevelName(auth)})`);
        err = 'FORBIDDEN';
      } else if (cat.access.localSn && !this.serviceNode) err = 'NOT_A_SERVICE_NODE';
      else if (cat.access.remoteSn && !remoteSn) err = 'FORBIDDEN_SN';
      else if (cmd.isRequest && frames.length < 2) err = 'NO_REPLY_TAG';
      else {
        const tag = cmd.isRequest ? frames[1] : undefined;
        const data = frames.slice(cmd.isRequest ? 2 : 1);
        const msg = new Message(this, data, conn, { auth, remoteSn, localSn: this.serviceNode }, remote, tag);
        const handler = cmd.handler;
        // A drop (full category queue, §6.2) is logged once, by the scheduler; no reply goes back.
        const r = this.scheduler.submitCommand(cat.key, () => handler(msg), name);
        if (r === 'started' && out) out.lastActivity = this.#clock.now();
        return;
      }
    }
    // The two error shapes of §4.3: the REPLY form only for a found request command with a tag.
    const reply = found !== undefined && found.cmd.isRequest && frames.length > 1 ? [err, 'REPLY', frames[1]!] : [err, raw];
    this.#replyOn(l, route, reply, out);
  }

  // ---- internals: the cleanup tick (§5.5) ---------------------------------------------------

  #armTick(): void {
    this.#tick = this.#clock.setTimeout(() => {
      this.#tick = null;
      if (this.#closed) return;
      this.#cleanup();
      this.#armTick();
    }, this.connCheckInterval);
  }

  #cleanup(): void {
    const now = this.#clock.now();
    for (const out of [...this.#outgoing.values()]) {
      if (out.kind === 'sn' && now - out.lastActivity > out.idleExpiry) {
        this.logger.info?.(`closing idle connection to ${toHex(out.pubkey)}`);
        this.#closeOutgoing(out, this.closeLinger, 'idle');
      } else if (out.pending && now >= out.pending.deadline) {
        this.#closeOutgoing(out, 0, 'connection attempt timed out');
      }
    }
    for (const [key, r] of this.#requests) {
      if (now >= r.deadline) {
        this.#requests.delete(key);
        r.reject(new RequestError('TIMEOUT', r.command));
      }
    }
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
    readonly name: string,
  ) {}
  addCommand(name: string, handler: CommandHandler): this {
    this.omq.addCommand(this.name, name, handler);
    return this;
  }
  addRequestCommand(name: string, handler: CommandHandler): this {
    this.omq.addRequestCommand(this.name, name, handler);
    return this;
  }
}

/** Peer-supplied names go into logs only when short and printable. */
function safeName(s: string): string {
  return s.length <= 64 && /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : '(unprintable command)';
}

function filterLogger(l: Logger, level: number): Logger {
  return {
    error: level >= LEVELS.error ? (m, ...a) => l.error(m, ...a) : () => {},
    warn: level >= LEVELS.warn ? (m, ...a) => l.warn(m, ...a) : () => {},
    info: level >= LEVELS.info && l.info ? (m, ...a) => l.info!(m, ...a) : undefined,
    debug: level >= LEVELS.debug && l.debug ? (m, ...a) => l.debug!(m, ...a) : undefined,
  };
}

export { Batch, RUN_IN_PROXY };
