/**
 * Every limit and timer of the wire layer in one place, with the defaults C++ oxenmq sets on its
 * libzmq sockets (oxen-mq `oxenmq/oxenmq.h` for the values, `oxenmq/connections.cpp`
 * `setup_external_socket` for where they apply) and libzmq's own where oxenmq keeps them (the
 * 1000-message ZMQ_SNDHWM).
 */
import { ByteBudget } from './budget.js';
import { type Clock, systemClock } from './clock.js';

/**
 * The process-wide budgets that routers and dealers count against when given none of their own
 * (an OxenMQ instance gives its own). 1 GiB each: sized for 10,000 connections, which then have
 * about 100 KiB each on average while any one of them may still use its whole per-connection
 * allowance (64 MiB queued, one 64 MiB message received); without a shared cap, 10,000 peers
 * that never read could pin 640 GiB.
 */
export const DEFAULT_PROCESS_BUDGET = 1024 * 1024 * 1024;
const sharedOutputBudget = new ByteBudget(DEFAULT_PROCESS_BUDGET);
const sharedInputBudget = new ByteBudget(DEFAULT_PROCESS_BUDGET);

/** A pluggable logger; every method is optional so a partial console-like object fits. */
export interface ZmtpLogger {
  /** Detail for debugging: a peer disconnecting, a command ignored. */
  debug?(msg: string, ...meta: unknown[]): void;
  /** Notable but expected events. */
  info?(msg: string, ...meta: unknown[]): void;
  /** Something a peer did wrong, or a connection that failed. */
  warn?(msg: string, ...meta: unknown[]): void;
  /** A fault in our own code or in a handler. */
  error?(msg: string, ...meta: unknown[]): void;
}

/** Options shared by listeners (ROUTER) and outgoing connections (DEALER). */
export interface ZmtpOptions {
  /** Largest accepted incoming frame, in bytes (under CURVE: the encrypted frame). −1: no limit. Default 1 MiB. */
  maxMessageSize?: number;
  /** Most frames one incoming multipart message may have. Default 10 000. */
  maxFramesPerMessage?: number;
  /**
   * Most bytes one incoming multipart message may total (frame bodies as received, so under
   * CURVE including the 33-byte MESSAGE overhead), −1 for no limit. Default 64 MiB: libzmq has
   * no such limit, but without one a peer could make a single unfinished message hold
   * maxFramesPerMessage × maxMessageSize (10 GiB with the defaults).
   */
  maxMultipartSize?: number;
  /** Greeting plus security handshake must finish within this many ms. Default 10 000. */
  handshakeTimeout?: number;
  /** Send a PING every this many ms; 0 disables heartbeats. Default 15 000. */
  heartbeatInterval?: number;
  /** Drop the connection if nothing arrives this many ms after a PING. Default 30 000. */
  heartbeatTimeout?: number;
  /** TTL announced in our PINGs, in ms (sent in deciseconds). Default 0 (none). */
  heartbeatTtl?: number;
  /**
   * Messages that may wait per connection (DEALER: per socket) after a flush, before sends fail
   * with QUEUE_FULL. libzmq's ZMQ_SNDHWM, which C++ oxenmq leaves at 1000. Default 1000. Only
   * messages that are still queued after the connection wrote what the socket took count (a
   * burst sent in one event-loop turn is bounded by `maxQueuedBytes` instead): see SendQueue.
   */
  sendHighWaterMark?: number;
  /**
   * Bytes queued per connection (DEALER: per socket) and not yet handed to the socket, before
   * sends fail with QUEUE_FULL: what a peer that never reads can pin. Parts count their lengths
   * plus a small overhead per part and per message. −1: no per-connection limit. Default 64 MiB.
   * libzmq has no byte limit (ZMQ_SNDHWM counts messages, so a peer pins 1000 × message size).
   */
  maxQueuedBytes?: number;
  /**
   * Most messages queued per connection in one go while none has waited past a flush (a burst
   * sent in one event-loop turn); past it, sends fail with QUEUE_FULL. Default 16 384. No libzmq
   * equivalent (its ZMQ_SNDHWM is reached only when the peer does not keep up: its I/O thread
   * drains the pipe while the application sends).
   */
  sendBurstLimit?: number;
  /**
   * The budget every connection's queued bytes count against together (a send past it fails with
   * QUEUE_FULL). Default: one shared by the whole process, of 1 GiB. No libzmq equivalent.
   */
  outputBudget?: ByteBudget;
  /**
   * The budget the bytes of frames and messages received in part count against together: while
   * it is spent, a connection that completes a message stops reading (TCP backpressure) until it
   * has room again. Default: one shared by the whole process, of 1 GiB. No libzmq equivalent.
   */
  inputBudget?: ByteBudget;
  /**
   * Listeners: most connections at once whose handshake has not completed; a connection past it
   * is closed at once (one throttled log line). Default 1024: a reconnect storm of a thousand
   * peers still gets through (a handshake takes a round trip or two), while connections that
   * stall after a few greeting bytes can no longer hold the listener's memory and file
   * descriptors until the 10 s handshake timeout. −1: no limit. libzmq has none (only the
   * kernel's accept backlog, ZMQ_BACKLOG).
   */
  maxHandshakes?: number;
  /**
   * Listeners: most unfinished handshakes from one remote address, so that one host cannot take
   * every slot of `maxHandshakes`. −1 (default): no per-address limit (many peers may share an
   * address behind NAT). No libzmq equivalent.
   */
  maxHandshakesPerAddress?: number;
  /** First reconnect delay, in ms. Default 250. */
  reconnectInterval?: number;
  /** Reconnect delay cap; the delay doubles up to it. Default 5000. */
  reconnectIntervalMax?: number;
  /** Resolve and listen on IPv6 too. Default false (IPv4 only, as C++ oxenmq). */
  ipv6?: boolean;
  /** Timer source; inject a ManualClock in tests. */
  clock?: Clock;
  /** Where the wire layer logs; default: nothing is logged. */
  logger?: ZmtpLogger;
}

export type ResolvedZmtpOptions = Required<ZmtpOptions>;

const silentLogger: ZmtpLogger = {};

/** Fills in the defaults and validates the numbers. */
export function resolveOptions(o: ZmtpOptions = {}): ResolvedZmtpOptions {
  const r: ResolvedZmtpOptions = {
    maxMessageSize: o.maxMessageSize ?? 1024 * 1024,
    maxFramesPerMessage: o.maxFramesPerMessage ?? 10_000,
    maxMultipartSize: o.maxMultipartSize ?? 64 * 1024 * 1024,
    handshakeTimeout: o.handshakeTimeout ?? 10_000,
    heartbeatInterval: o.heartbeatInterval ?? 15_000,
    heartbeatTimeout: o.heartbeatTimeout ?? 30_000,
    heartbeatTtl: o.heartbeatTtl ?? 0,
    sendHighWaterMark: o.sendHighWaterMark ?? 1000,
    maxQueuedBytes: o.maxQueuedBytes ?? 64 * 1024 * 1024,
    sendBurstLimit: o.sendBurstLimit ?? 16_384,
    outputBudget: o.outputBudget ?? sharedOutputBudget,
    inputBudget: o.inputBudget ?? sharedInputBudget,
    maxHandshakes: o.maxHandshakes ?? 1024,
    maxHandshakesPerAddress: o.maxHandshakesPerAddress ?? -1,
    reconnectInterval: o.reconnectInterval ?? 250,
    reconnectIntervalMax: o.reconnectIntervalMax ?? 5000,
    ipv6: o.ipv6 ?? false,
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
  };
  for (const k of [
    'maxFramesPerMessage',
    'handshakeTimeout',
    'heartbeatInterval',
    'heartbeatTimeout',
    'heartbeatTtl',
    'sendHighWaterMark',
    'sendBurstLimit',
    'reconnectInterval',
    'reconnectIntervalMax',
  ] as const) {
    const v = r[k];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${k} must be a non-negative number`);
  }
  for (const k of ['outputBudget', 'inputBudget'] as const) {
    if (!(r[k] instanceof ByteBudget)) throw new TypeError(`${k} must be a ByteBudget`);
  }
  for (const k of ['maxMessageSize', 'maxMultipartSize', 'maxQueuedBytes', 'maxHandshakes', 'maxHandshakesPerAddress'] as const) {
    const v = r[k];
    if (!(v === -1 || (Number.isSafeInteger(v) && v >= 0))) throw new RangeError(`${k} must be -1 or a non-negative integer`);
  }
  if (r.heartbeatTtl > 6_553_500) throw new RangeError('heartbeatTtl must fit in 16 bits of deciseconds');
  return r;
}
