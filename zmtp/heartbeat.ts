/**
 * ZMTP 3.1 heartbeats (RFC 37 §"Connection Heartbeating"), timed as libzmq 4.3 does
 * (`src/zmtp_engine.cpp`, `produce_ping_message` / `process_heartbeat_message`).
 *
 * PING = `04 "PING" ‖ ttl:u16be (deciseconds) ‖ context (≤ 16 bytes)`; PONG = `04 "PONG" ‖
 * context`. As libzmq: a PING every `interval` regardless of traffic; after each PING, if nothing
 * at all arrives within `timeout`, the connection is dead; a PING with TTL > 0 asks us to drop the
 * connection if nothing arrives within TTL. Receiving is tracked with a flag the connection sets
 * per completed frame (libzmq: per read, so a frame trickled a byte at a time kept a connection
 * alive forever), so the hot path never touches a timer.
 */
import type { Clock, TimerHandle } from './clock.js';
import { encodeCommand } from './command.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { readU16BE, writeU16BE, zeroBytes } from './bytes.js';

/** PING body with `ttlMs` rounded down to deciseconds and an optional context. */
export function encodePing(ttlMs = 0, context?: Uint8Array): Uint8Array {
  const data = zeroBytes(2 + (context ? Math.min(context.length, 16) : 0));
  writeU16BE(data, Math.min(0xffff, Math.floor(ttlMs / 100)), 0);
  if (context) data.set(context.subarray(0, 16), 2);
  return encodeCommand('PING', data);
}

/** PONG body echoing a PING's context (truncated to 16 bytes). */
export function encodePong(context: Uint8Array): Uint8Array {
  return encodeCommand('PONG', context.subarray(0, 16));
}

/** Parses a PING's data: TTL in ms and the context view. */
export function decodePing(data: Uint8Array): { ttlMs: number; context: Uint8Array } {
  if (data.length < 2) {
    throw new ZmtpError(ZmtpErrorCode.MALFORMED_COMMAND, 'PING command is shorter than its TTL field');
  }
  return { ttlMs: readU16BE(data, 0) * 100, context: data.subarray(2, 18) };
}

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  sendCommand(body: Uint8Array): void;
  fail(err: ZmtpError): void;
}

/** The per-connection heartbeat timers. */
export class Heartbeat {
  /** Set by the connection on every completed frame. */
  received = false;
  private ivlTimer: TimerHandle | null = null;
  private timeoutTimer: TimerHandle | null = null;
  private ttlTimer: TimerHandle | null = null;
  private receivedSinceTtl = false;
  private stopped = false;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly clock: Clock,
    private readonly interval: number,
    private readonly timeout: number,
    private readonly ttl: number,
  ) {}

  /** Starts the PING cycle (after the handshake). */
  start(): void {
    if (this.interval > 0) this.ivlTimer = this.clock.setTimeout(this.onInterval, this.interval);
  }

  /** Called for each completed frame: any whole frame counts as a sign of life. */
  markReceived(): void {
    this.received = true;
    this.receivedSinceTtl = true;
  }

  /**
   * A PING from the peer: answer with PONG (unless `answer` is false: the connection's output is
   * backed up, and a peer flooding PINGs without reading must not grow our write buffer — any
   * traffic from us already proves we are alive), and honour its TTL.
   */
  onPing(data: Uint8Array, answer = true): void {
    const { ttlMs, context } = decodePing(data);
    if (answer) this.host.sendCommand(encodePong(context));
    if (ttlMs > 0 && this.ttlTimer === null) {
      this.receivedSinceTtl = false;
      this.ttlTimer = this.clock.setTimeout(this.onTtl, ttlMs);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.ivlTimer, this.timeoutTimer, this.ttlTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.ivlTimer = this.timeoutTimer = this.ttlTimer = null;
  }

  private readonly onInterval = (): void => {
    this.ivlTimer = null;
    if (this.stopped) return;
    this.host.sendCommand(encodePing(this.ttl));
    // libzmq cancels the timeout on any receipt and re-arms it at the next PING; a receipt since
    // the armed PING means exactly that.
    if (this.timeoutTimer !== null && this.received) {
      this.clock.clearTimeout(this.timeoutTimer);
      this.timeoutTimer = null;
    }
    if (this.timeout > 0 && this.timeoutTimer === null) {
      this.received = false;
      this.timeoutTimer = this.clock.setTimeout(this.onTimeout, this.timeout);
    }
    if (!this.stopped) this.ivlTimer = this.clock.setTimeout(this.onInterval, this.interval);
  };

  private readonly onTimeout = (): void => {
    this.timeoutTimer = null;
    if (this.stopped || this.received) return;
    this.host.fail(new ZmtpError(ZmtpErrorCode.HEARTBEAT_TIMEOUT, `no traffic within ${this.timeout} ms of our PING`));
  };

  private readonly onTtl = (): void => {
    this.ttlTimer = null;
    if (this.stopped || this.receivedSinceTtl) return;
    this.host.fail(new ZmtpError(ZmtpErrorCode.HEARTBEAT_TIMEOUT, "no traffic within the peer's heartbeat TTL"));
  };
}
