/**
 * An outgoing connection with libzmq DEALER semantics (RFC 28 §"The DEALER Socket Type") as C++
 * oxenmq uses it (oxen-mq `oxenmq/connections.cpp`, `setup_outgoing_socket`): one peer; messages
 * queue while (re)connecting up to the high-water mark and are flushed once the handshake
 * completes in both directions (never before the peer's READY: a C++ listener still waiting on
 * its authentication decision drops a connection that sends data early); reconnect with back-off
 * 250 ms doubling to 5 s, reset after a connection that completed its handshake (libzmq
 * `src/stream_connecter_base.cpp`, `get_new_reconnect_ivl`); no retry after the peer's handshake
 * ERROR or a protocol error (libzmq 4.3 terminates the session then: `src/session_base.cpp`,
 * `engine_error`), after which sends fail at once.
 */
import type { TimerHandle } from './clock.js';
import { Admission, type Peer } from './admission.js';
import { type ConnectionOwner, ZmtpConnection } from './connection.js';
import type { Connector } from './connector.js';
import { TypedEmitter } from './emitter.js';
import { type Endpoint, parseEndpoint } from './endpoint.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import type { MechanismFactory } from './mechanism.js';
import { nullMechanism } from './null.js';
import { type ResolvedZmtpOptions, type ZmtpOptions, resolveOptions } from './options.js';
import { type OutgoingMessage, SendQueue, queueLimits } from './send-queue.js';
import type { ZmtpStream } from './stream.js';

/** Options of a {@link ZmtpDealer}. */
export interface DealerOptions extends ZmtpOptions {
  /** Security mechanism (default NULL). */
  mechanism?: MechanismFactory;
  /** Routing id announced to the peer (≤ 255 bytes, not starting with 0x00). Default empty. */
  identity?: Uint8Array;
  /**
   * ws:// and wss:// endpoints: the ZWS 2.0 subprotocols offered. Default `['ZWS2.0/NULL']` for
   * NULL, `['ZWS2.0/CURVE']` for CURVE (libzmq's forms, which C++ oxenmq nodes accept); our
   * listeners also accept `ZWS2.0+NULL`, `ZWS2.0+CURVE` and (NULL) the bare `ZWS2.0`.
   */
  wsSubprotocols?: readonly string[];
  /**
   * Opens the transport of each attempt. The Node build's ZmtpDealer brings one for tcp://,
   * ipc:// and ws:// (and wss://); the browser build's for ws:// and wss://.
   */
  connector?: Connector;
}

/** Where a dealer is in its life. */
export type DealerState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'failed' | 'closed';

/** The events of a {@link ZmtpDealer}. */
export interface DealerEvents {
  /** The handshake completed; queued messages are being flushed. */
  connect: [peer: Peer<undefined>];
  /** An established connection ended (a reconnect follows unless failed/closed). */
  disconnect: [err: ZmtpError | null];
  /** A TCP connect or a handshake attempt failed; `retryInMs` is −1 when no retry follows. */
  'connect-failed': [err: ZmtpError, retryInMs: number];
  /** The peer refused us (handshake ERROR) or broke the protocol: no more retries. */
  failed: [err: ZmtpError];
  /** The socket drained and the send queue is empty again: sending after QUEUE_FULL may resume. */
  drain: [];
}

/** Errors after which libzmq 4.3 reconnects; any other error terminates the session. */
const RETRYABLE = new Set<string>([
  ZmtpErrorCode.TRANSPORT,
  ZmtpErrorCode.HANDSHAKE_TIMEOUT,
  ZmtpErrorCode.HEARTBEAT_TIMEOUT,
]);

/** Handler for a dealer's incoming messages: the frames and the peer they came from. */
export type DealerMessageHandler = (frames: Uint8Array[], peer: Peer<undefined>) => void;

/** Outgoing connections run no authentication hook: the peer view carries no auth data. */
const DEALER_ADMISSION = new Admission<undefined>('DEALER');

/**
 * A ZMTP DEALER that connects to one peer and keeps reconnecting; messages sent meanwhile wait.
 *
 * @example
 * ```ts
 * import { ZmtpDealer, ZmtpErrorCode, ZmtpRouter, isZmtpError } from 'oxenmq-ts/zmtp';
 *
 * const router = new ZmtpRouter();
 * router.onMessage = (frames, route) => router.send(route, frames); // an echo server
 * const endpoint = await router.bind('tcp://127.0.0.1:0');
 *
 * const dealer = new ZmtpDealer({ identity: Buffer.from('client-1') });
 * dealer.on('failed', (err) => {
 *   // The peer refused us (handshake ERROR) or broke the protocol: no retry; sends now throw.
 * });
 * dealer.send(['sent before connecting']); // queued until the handshake completes
 * dealer.connect(endpoint);
 * const echo = await new Promise<Uint8Array[]>((resolve) => (dealer.onMessage = resolve));
 *
 * // Sends never block: at the high-water mark they throw QUEUE_FULL until 'drain'.
 * try {
 *   for (;;) dealer.send([new Uint8Array(1024)]);
 * } catch (err) {
 *   if (!isZmtpError(err, ZmtpErrorCode.QUEUE_FULL)) throw err;
 *   await new Promise((resolve) => dealer.once('drain', resolve));
 * }
 * await dealer.close(1000); // what is still queued gets up to 1 s to go out
 * await router.close();
 * ```
 */
export class ZmtpDealer extends TypedEmitter<DealerEvents> implements ConnectionOwner<undefined> {
  /** The options in force: what was passed, with every default filled in. */
  readonly options: ResolvedZmtpOptions;
  /** Receives every incoming message; set it before connecting. */
  onMessage: DealerMessageHandler = () => {};

  private readonly mechanism: MechanismFactory;
  private readonly identity: Uint8Array;
  private readonly wsSubprotocols: readonly string[] | undefined;
  private readonly connector: Connector | undefined;
  /** One queue for the dealer's life: what is queued while (re)connecting survives reconnects. */
  private readonly queue: SendQueue;
  private endpoint: Endpoint | null = null;
  private conn: ZmtpConnection<undefined> | null = null;
  private pendingSocket: { destroy(): void } | null = null;
  private retryTimer: TimerHandle | null = null;
  private retryDelay: number;
  private _state: DealerState = 'idle';
  private failure: ZmtpError | null = null;
  private closeWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(opts: DealerOptions = {}) {
    super();
    this.options = resolveOptions(opts);
    this.mechanism = opts.mechanism ?? nullMechanism;
    const id = opts.identity ?? new Uint8Array(0);
    if (!(id instanceof Uint8Array)) throw new TypeError('identity must be a Uint8Array');
    if (id.length > 255 || (id.length > 0 && id[0] === 0)) {
      throw new RangeError('identity must be at most 255 bytes and must not start with 0x00');
    }
    this.identity = id;
    this.wsSubprotocols = opts.wsSubprotocols;
    this.connector = opts.connector;
    this.retryDelay = this.options.reconnectInterval;
    this.queue = new SendQueue(queueLimits(this.options));
  }

  /** Where the dealer is in its life: idle, connecting, ready, waiting to reconnect, failed or closed. */
  get state(): DealerState {
    return this._state;
  }

  /** The peer of the live connection, once its handshake has completed; else null. */
  get connection(): Peer<undefined> | null {
    return this.conn !== null && this.conn.ready ? this.conn : null;
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** Bytes waiting to be written, as the send queue counts them against `maxQueuedBytes`. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /**
   * Resolves once nothing is queued (at once when the queue is empty; also when the dealer
   * closes or fails, after which sends throw): the moment to resume after QUEUE_FULL.
   */
  drained(): Promise<void> {
    if (this.queue.length === 0 || this._state === 'closed' || this._state === 'failed') return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Starts connecting to `endpoint` (once per dealer); failures are retried per the back-off. */
  connect(endpoint: string): void {
    if (this._state !== 'idle') throw new ZmtpError(ZmtpErrorCode.CLOSED, 'dealer is already connected or closed');
    const ep = parseEndpoint(endpoint);
    if (ep.transport !== 'ipc' && (ep.host === '*' || ep.port === 0)) {
      throw new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, 'cannot connect to a wildcard host or port 0');
    }
    this.endpoint = ep;
    this.attempt();
  }

  /**
   * Sends (or queues, while connecting) one multipart message. Throws QUEUE_FULL at the
   * high-water mark, CLOSED after close() or after the peer refused us (cause: its error),
   * TypeError for a part that is neither a string nor a Uint8Array (nothing is sent then).
   * Parts are handed over by reference, as with `net.Socket.write`: do not modify a buffer after
   * passing it here (it may be queued, or written at the end of the event-loop turn); copy it
   * first if you must reuse it.
   */
  send(msg: OutgoingMessage): void {
    if (this._state === 'closed') throw new ZmtpError(ZmtpErrorCode.CLOSED, 'dealer is closed');
    if (this._state === 'failed') {
      throw new ZmtpError(ZmtpErrorCode.CLOSED, 'the peer refused this connection; it will not be retried', { cause: this.failure });
    }
    if (this.conn !== null && this.conn.ready) {
      this.conn.send(msg);
    } else {
      // Not connected: nothing drains the queue, so every message counts against the mark at
      // once, as in libzmq's pipe before the connection is up.
      this.queue.push(msg);
      this.queue.settle();
    }
  }

  /**
   * Closes the dealer. Queued messages get up to `lingerMs` to be written (0: dropped at once).
   * Resolves once the socket is closed.
   */
  close(lingerMs = 0): Promise<void> {
    if (this._state === 'closed') return Promise.resolve();
    this._state = 'closed';
    if (this.retryTimer !== null) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pendingSocket?.destroy();
    this.pendingSocket = null;
    const conn = this.conn;
    if (conn === null || conn.socket.destroyed) {
      this.queue.clear();
      this.wakeDrainWaiters();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.closeWaiters.push(resolve);
      conn.close(lingerMs);
    });
  }

  // --- ConnectionOwner ----------------------------------------------------------------------

  /** Connection callback (not for users): the handshake of `conn` completed. */
  connReady(conn: ZmtpConnection<undefined>): void {
    this._state = 'ready';
    this.retryDelay = this.options.reconnectInterval;
    this.emit('connect', conn);
  }

  /** Connection callback (not for users): `conn` received a whole multipart message. */
  connMessage(conn: ZmtpConnection<undefined>, frames: Uint8Array[]): void {
    this.onMessage(frames, conn);
  }

  /** Connection callback (not for users): the socket of a connection drained. */
  connDrain(): void {
    if (this.queue.length > 0) return;
    this.wakeDrainWaiters();
    this.emit('drain');
  }

  private wakeDrainWaiters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** Connection callback (not for users): `conn` closed, with the error that ended it if any. */
  connClose(conn: ZmtpConnection<undefined>, err: ZmtpError | null, wasReady: boolean): void {
    if (this.conn === conn) this.conn = null;
    if (this._state === 'closed') {
      this.queue.clear();
      this.wakeDrainWaiters();
      for (const w of this.closeWaiters.splice(0)) w();
      return;
    }
    if (wasReady) this.emit('disconnect', err);
    const e = err ?? new ZmtpError(ZmtpErrorCode.TRANSPORT, wasReady ? 'peer closed the connection' : 'peer closed the connection during the handshake');
    if (!RETRYABLE.has(e.code)) {
      this.failForGood(e, !wasReady);
      return;
    }
    if (wasReady) {
      this.scheduleRetry(null);
    } else {
      this.scheduleRetry(e);
    }
  }

  // --- internals ----------------------------------------------------------------------------

  private failForGood(e: ZmtpError, attemptFailed: boolean): void {
    this._state = 'failed';
    this.failure = e;
    this.queue.clear();
    this.wakeDrainWaiters();
    if (attemptFailed) this.emit('connect-failed', e, -1);
    this.options.logger.warn?.(`zmtp: outgoing connection failed for good: ${e.message}`);
    this.emit('failed', e);
  }

  private attempt(): void {
    this._state = 'connecting';
    const endpoint = this.endpoint!;
    if (this.connector === undefined) {
      this.failForGood(new ZmtpError(ZmtpErrorCode.BAD_ENDPOINT, `no transport for ${endpoint.transport}:// here`), true);
      return;
    }
    this.pendingSocket = this.connector({
      endpoint,
      mechanism: this.mechanism.name,
      options: this.options,
      subprotocols: this.wsSubprotocols,
      open: (stream, remoteAddress) => {
        this.pendingSocket = null;
        if (this._state === 'closed') {
          stream.destroy();
          return;
        }
        this.conn = this.openConnection(stream, remoteAddress);
        stream.start?.();
      },
      failed: (err) => {
        this.pendingSocket = null;
        if (this._state === 'closed') return;
        if (RETRYABLE.has(err.code)) this.scheduleRetry(err);
        else this.failForGood(err, true);
      },
    });
  }

  /** The connection over an open stream (net.Socket or WebSocket). */
  private openConnection(socket: ZmtpStream, remoteAddress: string): ZmtpConnection<undefined> {
    return new ZmtpConnection({
      socket,
      role: 'client',
      admission: DEALER_ADMISSION,
      identity: this.identity,
      mechanism: this.mechanism,
      options: this.options,
      owner: this,
      remoteAddress,
      queue: this.queue,
    });
  }

  /**
   * Schedules the next attempt after the current delay and doubles the delay for the one after
   * (libzmq `stream_connecter_base_t::get_new_reconnect_ivl`); a completed handshake resets it.
   */
  private scheduleRetry(attemptError: ZmtpError | null): void {
    this._state = 'waiting';
    // What was queued has waited past a connection attempt: it counts against the high-water
    // mark, as libzmq's pipe holds at most ZMQ_SNDHWM messages while not connected.
    this.queue.settle();
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.options.reconnectIntervalMax);
    if (attemptError !== null) this.emit('connect-failed', attemptError, delay);
    // This timer is the dealer's only pending work while no socket is open: it must keep the
    // process alive (as libzmq's context does), or a pending connect or queued request would
    // vanish when the event loop runs dry. close() clears it.
    this.retryTimer = this.options.clock.setTimeout(
      () => {
        this.retryTimer = null;
        if (this._state === 'waiting') this.attempt();
      },
      delay,
      true,
    );
  }
}
