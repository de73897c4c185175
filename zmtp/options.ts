/**
 * Every limit and timer of the wire layer in one place, with the defaults C++ oxenmq sets on its
 * libzmq sockets (oxen-mq `oxenmq/oxenmq.h` for the values, `oxenmq/connections.cpp`
 * `setup_external_socket` for where they apply) and libzmq's own where oxenmq keeps them (the
 * 1000-message ZMQ_SNDHWM).
 */
import { type Clock, systemClock } from './clock.js';

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
  /** Messages queued per connection (DEALER: per socket) before sends fail. Default 1000. */
  sendHighWaterMark?: number;
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
    'reconnectInterval',
    'reconnectIntervalMax',
  ] as const) {
    const v = r[k];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${k} must be a non-negative number`);
  }
  for (const k of ['maxMessageSize', 'maxMultipartSize'] as const) {
    const v = r[k];
    if (!(v === -1 || (Number.isSafeInteger(v) && v >= 0))) throw new RangeError(`${k} must be -1 or a non-negative integer`);
  }
  if (r.heartbeatTtl > 6_553_500) throw new RangeError('heartbeatTtl must fit in 16 bits of deciseconds');
  return r;
}
