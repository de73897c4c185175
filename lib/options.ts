/**
 * What an OxenMQ instance can be configured with: {@link OxenMQOptions}, the one table of
 * defaults ({@link DEFAULTS}, C++ oxenmq's values from upstream `oxenmq/oxenmq.h`), validation,
 * and the mapping onto the wire layer's options.
 */
import { generateKeypair, publicKeyFromSecret } from '../curve/index.js';
import { type AllowOrigin, ByteBudget, type Clock, type LogThrottle, type ZmtpOptions, bytesEqual } from '../zmtp/index.js';
import { OmqError, OmqErrorCode } from './errors.js';
import type { Emitter, OxenMQEvents } from './events.js';
import type { Logger, LogLevel } from './logger.js';
import type { Platform } from './platform.js';
import { parsePubkey } from './oxenc/index.js';

/**
 * The tunables C++ oxenmq exposes as public members (`HANDSHAKE_TIME`, `MAX_MSG_SIZE`, …). They
 * are plain properties of the instance too: changing one affects connections made afterwards.
 */
export interface OxenMQSettings {
  /** ZMTP greeting plus security handshake must finish within this many ms (`HANDSHAKE_TIME`). Default 10 000. */
  handshakeTime: number;
  /**
   * Announce a throw-away routing id on outgoing connections, so one instance can hold several
   * connections to one listener (`EPHEMERAL_ROUTING_ID`). Default false.
   */
  ephemeralRoutingId: boolean;
  /**
   * The routing id outgoing connections announce: `'v1.3'` (default; liboxenmq 1.3's
   * `"K" ‖ BLAKE2b(remote pubkey, key = our secret key)` on CURVE, `"R" ‖ 32 random bytes`
   * otherwise: stable per remote, so listener handover works, without revealing our pubkey) or
   * `'legacy'` (oxenmq 1.2's `"L" ‖ our pubkey`).
   */
  routingIdFormat: 'v1.3' | 'legacy';
  /** Largest incoming frame in bytes, −1 for no limit (`MAX_MSG_SIZE`; under CURVE the boxed frame). Default 1 MiB. */
  maxMsgSize: number;
  /** Most outgoing connections plus listeners (`MAX_SOCKETS`); 0 or −1: no limit of ours. Default 10 000. */
  maxSockets: number;
  /** First reconnect delay of an outgoing connection, ms (`RECONNECT_INTERVAL`). Default 250. */
  reconnectInterval: number;
  /** The reconnect delay doubles up to this, ms (`RECONNECT_INTERVAL_MAX`). Default 5000. */
  reconnectIntervalMax: number;
  /** How long closes (idle expiry, SN de-listing, shutdown) may still write queued messages, ms (`CLOSE_LINGER`). Default 5000. */
  closeLinger: number;
  /** Period of the cleanup tick: idle expiry, connect and request timeouts, ms (`CONN_CHECK_INTERVAL`). Default 250. */
  connCheckInterval: number;
  /** ZMTP heartbeat (PING) interval, ms; 0 disables heartbeats (`CONN_HEARTBEAT`). Default 15 000. */
  connHeartbeat: number;
  /** Drop a connection when nothing arrives this long after our PING, ms (`CONN_HEARTBEAT_TIMEOUT`). Default 30 000. */
  connHeartbeatTimeout: number;
  /** Listen and connect over IPv6 too (`IPV6`). Default false. */
  ipv6: boolean;
  /** Keep-alive of service-node connections opened implicitly by send/request, ms (`DEFAULT_SEND_KEEP_ALIVE`). Default 30 000. */
  defaultSendKeepAlive: number;
  /**
   * Keep-alive of `connectSn` connections, ms (`DEFAULT_CONNECT_SN_KEEP_ALIVE`). Default 5
   * minutes: C++ documents 5 minutes but, through a µs/ms mix-up, applies about 83 hours.
   */
  defaultConnectSnKeepAlive: number;
  /** `connectRemote` fails unless the listener's HELLO arrives within this many ms (`REMOTE_CONNECT_TIMEOUT`). Default 10 000. */
  remoteConnectTimeout: number;
  /** `connectInproc` timeout, ms (`INPROC_CONNECT_TIMEOUT`). Default 50. */
  inprocConnectTimeout: number;
  /** Requests fail with `TIMEOUT` after this many ms without a reply (`DEFAULT_REQUEST_TIMEOUT`). Default 15 000. */
  defaultRequestTimeout: number;
  /**
   * Messages that may still wait per connection after it wrote what its socket took, before
   * sends are dropped (`queueFull`): libzmq's ZMQ_SNDHWM, which C++ leaves at 1000. Default 1000.
   * A burst sent in one event-loop turn is bounded by `maxQueuedBytes` instead, so that 10,000
   * requests issued in one loop all go out.
   */
  sendHighWaterMark: number;
  /**
   * Bytes queued per connection and not yet handed to its socket before sends are dropped
   * (`queueFull`): what a peer that never reads can pin. −1: no per-connection limit.
   * Default 64 MiB. C++ has no byte limit (its 1000-message mark pins 1000 × the message size).
   */
  maxQueuedBytes: number;
  /**
   * Bytes of input one connection may hold (a message in progress, and its commands waiting in
   * category queues for a handler) before it stops reading at the next message boundary, so a
   * peer that sends faster than its handlers run is slowed by TCP backpressure instead of
   * filling memory. −1: no per-connection limit. Default 16 MiB. C++: none (its category queue
   * counts commands, 200 by default, whatever their size). While paused nothing more is read
   * from that peer, replies included: a handler that awaits a reply from the same peer while
   * every slot is busy and this much of its commands wait will see that request time out.
   */
  maxInputBytes: number;
  /**
   * Most messages queued per connection in one go while none has waited past a flush (a burst in
   * one event-loop turn) before sends are dropped (`queueFull`). Default 16 384. C++: none.
   */
  sendBurstLimit: number;
  /**
   * Per listener: most connections at once whose handshake has not completed; one past it is
   * closed at once, with a throttled warning. −1: no limit. Default 1024. C++/libzmq: none.
   */
  maxHandshakes: number;
  /** Per listener: most unfinished handshakes from one remote address; −1 (default): no limit. C++/libzmq: none. */
  maxHandshakesPerAddress: number;
}

/** Construction options of an OxenMQ instance; every field is optional. */
export interface OxenMQOptions extends Partial<OxenMQSettings> {
  /** This instance's X25519 public key (32 bytes, or hex/base32z/base64); give it with `privkey`, or neither for a random pair. */
  pubkey?: Uint8Array | string;
  /** This instance's X25519 secret key, in the same forms as `pubkey`. */
  privkey?: Uint8Array | string;
  /** Run as a service node: `localSn` categories accept commands. Needs explicit keys. Default false. */
  serviceNode?: boolean;
  /**
   * Maps a service node's pubkey to the address to reach it at (`tcp://host:port`, or a curve
   * address), or undefined when unknown. Used when a send to an SN needs a new connection.
   */
  snLookup?: (pubkey: Uint8Array) => string | undefined;
  /**
   * Where log lines go. Default: warnings and errors as process warnings (`OxenMQWarning` on
   * stderr), so a handler that throws is visible; `{ warn() {}, error() {} }` silences them.
   */
  logger?: Logger;
  /** Least severe level logged; changeable later through `omq.logLevel`. Default `'warn'`, as C++. */
  logLevel?: LogLevel;
  /** `G`: general worker slots. Default: the number of CPU cores. */
  generalThreads?: number;
  /** `B`: slots reserved for batch jobs. Default ⌈G/2⌉. */
  batchThreads?: number;
  /** `R`: slots reserved for reply callbacks. Default ⌈G/8⌉. */
  replyThreads?: number;
  /** Threads for `Batch.addWorkerJob` jobs. Default: the number of CPU cores. */
  workerThreads?: number;
  /**
   * The worker threads' entry file. Default: the library's own entry file when it is there,
   * else the same code started inline (so worker jobs work inside a bundle with no setting).
   */
  workerEntry?: string | URL;
  /** Timer source for the cleanup tick, timers and heartbeats; tests inject a `ManualClock`. */
  clock?: Clock;
  /**
   * The browser Origins that `ws://` listeners accept: `'*'`, a list of exact origins, or a
   * predicate. Requests without an Origin header (non-browser clients) are always accepted; the
   * Allow callback runs for every connection either way. Default: none (browsers are refused).
   */
  wsAllowOrigin?: AllowOrigin;
  /**
   * Bytes all of this instance's connections may hold queued for sending together; past it,
   * sends are dropped (`queueFull`). −1: no limit. Default 1 GiB: sized for 10,000 connections
   * (about 100 KiB each on average, while one may use all of its `maxQueuedBytes`). C++: none.
   */
  outputBudget?: number;
  /**
   * Bytes all of this instance's connections may hold of frames and messages received in part;
   * while it is spent, a connection that completes a message stops reading (TCP backpressure)
   * until there is room. −1: no limit. Default 1 GiB. C++: none.
   */
  inputBudget?: number;
}

/** The byte budgets one instance's connections share. */
export interface InstanceBudgets {
  readonly input: ByteBudget;
  readonly output: ByteBudget;
}

/** The instance's budgets from its options (1 GiB each by default); throws `ERR_OMQ_INVALID_ARGUMENT`. */
export function resolveBudgets(opts: OxenMQOptions): InstanceBudgets {
  const make = (v: number | undefined, what: string) => {
    const n = v ?? 1024 * 1024 * 1024;
    if (!(n === -1 || (Number.isSafeInteger(n) && n >= 0))) throw invalid(`${what} must be -1 or an integer ≥ 0`);
    return new ByteBudget(n);
  };
  return { input: make(opts.inputBudget, 'inputBudget'), output: make(opts.outputBudget, 'outputBudget') };
}

/** What every part of an instance reads: its settings, clock, logger, keys and id counter. */
export interface InstanceContext {
  readonly settings: OxenMQSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** Allocates the next connection/listener number (ConnectionIDs share one counter). */
  readonly nextId: () => number;
  /** Lines that peers (or a send loop) can cause at will go through this, rate limited. */
  readonly throttle: LogThrottle;
  /** The instance's lifecycle events. */
  readonly emitter: Emitter<OxenMQEvents>;
  /** The byte budgets its connections share (absent: the wire layer's process-wide ones). */
  readonly budgets?: InstanceBudgets;
  /** The runtime's transports, listeners and threads. */
  readonly platform: Platform;
}

/** C++ oxenmq's defaults, in one place. */
export const DEFAULTS: Readonly<OxenMQSettings> = Object.freeze({
  handshakeTime: 10_000,
  ephemeralRoutingId: false,
  routingIdFormat: 'v1.3',
  maxMsgSize: 1024 * 1024,
  maxSockets: 10_000,
  reconnectInterval: 250,
  reconnectIntervalMax: 5000,
  closeLinger: 5000,
  connCheckInterval: 250,
  connHeartbeat: 15_000,
  connHeartbeatTimeout: 30_000,
  ipv6: false,
  defaultSendKeepAlive: 30_000,
  defaultConnectSnKeepAlive: 5 * 60_000,
  remoteConnectTimeout: 10_000,
  inprocConnectTimeout: 50,
  defaultRequestTimeout: 15_000,
  sendHighWaterMark: 1000,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxInputBytes: 16 * 1024 * 1024,
  sendBurstLimit: 16_384,
  maxHandshakes: 1024,
  maxHandshakesPerAddress: -1,
});

const DURATIONS = [
  'handshakeTime',
  'reconnectInterval',
  'reconnectIntervalMax',
  'closeLinger',
  'connHeartbeat',
  'connHeartbeatTimeout',
  'defaultSendKeepAlive',
  'defaultConnectSnKeepAlive',
  'remoteConnectTimeout',
  'inprocConnectTimeout',
  'defaultRequestTimeout',
] as const;

function invalid(message: string): OmqError {
  return new OmqError(OmqErrorCode.INVALID_ARGUMENT, message);
}

/** The settings of `opts` over {@link DEFAULTS}, validated; throws `ERR_OMQ_INVALID_ARGUMENT`. */
export function resolveSettings(opts: OxenMQOptions): OxenMQSettings {
  const s: OxenMQSettings = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof OxenMQSettings)[]) {
    const v = opts[k];
    if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
  }
  for (const k of DURATIONS) {
    if (typeof s[k] !== 'number' || !(s[k] >= 0) || !Number.isFinite(s[k])) throw invalid(`${k} must be a finite number ≥ 0`);
  }
  if (!(typeof s.connCheckInterval === 'number' && s.connCheckInterval > 0 && Number.isFinite(s.connCheckInterval))) {
    throw invalid('connCheckInterval must be a finite number > 0');
  }
  if (!(s.maxMsgSize === -1 || (Number.isSafeInteger(s.maxMsgSize) && s.maxMsgSize >= 0))) throw invalid('maxMsgSize must be -1 or an integer ≥ 0');
  if (!(Number.isSafeInteger(s.maxSockets) && s.maxSockets >= -1)) throw invalid('maxSockets must be an integer ≥ -1');
  for (const k of ['sendHighWaterMark', 'sendBurstLimit'] as const) {
    if (!(Number.isSafeInteger(s[k]) && s[k] >= 0)) throw invalid(`${k} must be an integer ≥ 0`);
  }
  for (const k of ['maxQueuedBytes', 'maxInputBytes', 'maxHandshakes', 'maxHandshakesPerAddress'] as const) {
    if (!(s[k] === -1 || (Number.isSafeInteger(s[k]) && s[k] >= 0))) throw invalid(`${k} must be -1 or an integer ≥ 0`);
  }
  if (s.routingIdFormat !== 'v1.3' && s.routingIdFormat !== 'legacy') throw invalid("routingIdFormat must be 'v1.3' or 'legacy'");
  if (typeof s.ephemeralRoutingId !== 'boolean' || typeof s.ipv6 !== 'boolean') throw invalid('ephemeralRoutingId and ipv6 must be booleans');
  return s;
}

/**
 * The instance's keypair: the given pair (checked to belong together) or, without either, a
 * random one. A service node must be given its keys.
 */
export function resolveKeys(opts: OxenMQOptions): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if ((opts.pubkey === undefined) !== (opts.privkey === undefined)) throw invalid('pubkey and privkey must be given together (or neither)');
  if (opts.privkey === undefined) {
    if (opts.serviceNode) throw invalid('a service node needs explicit keys');
    return generateKeypair();
  }
  const secretKey = Uint8Array.from(parsePubkey(opts.privkey));
  const publicKey = Uint8Array.from(parsePubkey(opts.pubkey!));
  if (!bytesEqual(publicKeyFromSecret(secretKey), publicKey)) throw invalid('pubkey does not match privkey');
  return { publicKey, secretKey };
}

/** True while `open` more sockets fit under `maxSockets` (0 and −1 mean no limit, as in C++). */
export function underSocketLimit(s: OxenMQSettings, open: number): boolean {
  return s.maxSockets <= 0 || open < s.maxSockets;
}

/** The wire layer's options for a new listener or outgoing connection, from the current settings. */
export function zmtpOptions(s: OxenMQSettings, clock: Clock, logger: Logger, budgets?: InstanceBudgets): ZmtpOptions {
  return {
    sendHighWaterMark: s.sendHighWaterMark,
    maxQueuedBytes: s.maxQueuedBytes,
    maxInputBytes: s.maxInputBytes,
    sendBurstLimit: s.sendBurstLimit,
    maxHandshakes: s.maxHandshakes,
    maxHandshakesPerAddress: s.maxHandshakesPerAddress,
    ...(budgets !== undefined ? { inputBudget: budgets.input, outputBudget: budgets.output } : {}),
    handshakeTimeout: s.handshakeTime,
    maxMessageSize: s.maxMsgSize,
    heartbeatInterval: s.connHeartbeat,
    heartbeatTimeout: s.connHeartbeat > 0 ? s.connHeartbeatTimeout : 0,
    reconnectInterval: s.reconnectInterval,
    reconnectIntervalMax: s.reconnectIntervalMax,
    ipv6: s.ipv6,
    clock,
    logger,
  };
}
