/**
 * Rate-limited log lines for what peers can cause. A peer that sends BYE, error replies or broken
 * handshakes in a loop must not choose how fast our log grows: each kind of line is counted per
 * kind and peer, the first few in an interval are written, and the rest become one summary line
 * ("… N more suppressed") when the interval ends. Memory is bounded: past `maxKeys` distinct
 * (kind, peer) pairs, further peers share one key per kind.
 */
import type { Clock, TimerHandle } from './clock.js';

/** The logger methods a throttle writes through (a console-like or structured logger fits). */
export interface ThrottleSink {
  warn?(msg: string, ...meta: unknown[]): void;
  info?(msg: string, ...meta: unknown[]): void;
  debug?(msg: string, ...meta: unknown[]): void;
}

/** Options of a {@link LogThrottle}. */
export interface LogThrottleOptions {
  /** Lines of one kind and peer written per interval before suppression. Default 3. */
  burst?: number;
  /** Length of an interval, ms. Default 10 000. */
  intervalMs?: number;
  /** Distinct (kind, peer) pairs tracked at once. Default 1024. */
  maxKeys?: number;
}

type Level = 'warn' | 'info' | 'debug';

interface Window {
  readonly kind: string;
  readonly peer: string;
  readonly level: Level;
  written: number;
  suppressed: number;
}

/** Counts and suppresses repeated log lines per kind and peer. */
export class LogThrottle {
  readonly #sink: ThrottleSink;
  readonly #clock: Clock;
  readonly #burst: number;
  readonly #interval: number;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, Window>();
  #timer: TimerHandle | null = null;

  constructor(sink: ThrottleSink, clock: Clock, options: LogThrottleOptions = {}) {
    this.#sink = sink;
    this.#clock = clock;
    this.#burst = options.burst ?? 3;
    this.#interval = options.intervalMs ?? 10_000;
    this.#maxKeys = options.maxKeys ?? 1024;
  }

  /** Writes `msg` at warn level unless this kind and peer already wrote `burst` lines this interval. */
  warn(kind: string, peer: string, msg: string, ...meta: unknown[]): void {
    this.#line('warn', kind, peer, msg, meta);
  }

  /** As {@link LogThrottle.warn}, at info level. */
  info(kind: string, peer: string, msg: string, ...meta: unknown[]): void {
    this.#line('info', kind, peer, msg, meta);
  }

  /** As {@link LogThrottle.warn}, at debug level. */
  debug(kind: string, peer: string, msg: string, ...meta: unknown[]): void {
    this.#line('debug', kind, peer, msg, meta);
  }

  /** Writes the pending summaries now and stops the interval timer. */
  close(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#flush();
  }

  #line(level: Level, kind: string, peer: string, msg: string, meta: unknown[]): void {
    const write = this.#sink[level];
    if (write === undefined) return;
    let key = kind + '\0' + peer;
    let w = this.#windows.get(key);
    if (w === undefined) {
      if (this.#windows.size >= this.#maxKeys) {
        // Too many distinct peers: they share one window per kind from here on.
        peer = '(many peers)';
        key = kind + '\0' + peer;
        w = this.#windows.get(key);
      }
      if (w === undefined) {
        w = { kind, peer, level, written: 0, suppressed: 0 };
        this.#windows.set(key, w);
      }
    }
    if (w.written < this.#burst) {
      w.written++;
      write.call(this.#sink, msg, ...meta);
    } else {
      w.suppressed++;
    }
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#flush();
    }, this.#interval);
  }

  /** Ends the interval: one summary line per window that suppressed anything; all counts restart. */
  #flush(): void {
    const windows = [...this.#windows.values()];
    this.#windows.clear();
    for (const w of windows) {
      if (w.suppressed === 0) continue;
      this.#sink[w.level]?.(`${w.suppressed} more "${w.kind}" lines from ${w.peer} suppressed in the last ${Math.round(this.#interval / 1000)} s`);
    }
  }
}
