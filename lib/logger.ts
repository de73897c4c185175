/**
 * The pluggable logger of the OxenMQ layer. Deliberately tiny: a `console` object fits, and so
 * does any structured logger (pino, winston); the library itself never writes to the console.
 * Structurally compatible with the wire layer's logger, so one object can serve both.
 */

/** Where the OxenMQ layer reports what a caller cannot see through a return value. */
export interface Logger {
  warn(msg: string, ...meta: unknown[]): void;
  error(msg: string, ...meta: unknown[]): void;
  debug?(msg: string, ...meta: unknown[]): void;
  info?(msg: string, ...meta: unknown[]): void;
}

/** Log levels, most severe first; an instance logs at and above its level (default `warn`, as C++). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** True for the four level names. */
export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && Object.hasOwn(LEVELS, v);
}

/** Discards everything. */
export const silentLogger: Logger = {
  warn() {},
  error() {},
};

/**
 * A {@link Logger} in front of the user's, passing on what is at or above `level`, which may
 * change at any time. `debug` and `info` are present only while that level is on, so hot paths
 * write `log.debug?.(…)` and build no message when it is off.
 */
export class LevelLogger implements Logger {
  debug: ((msg: string, ...meta: unknown[]) => void) | undefined;
  info: ((msg: string, ...meta: unknown[]) => void) | undefined;
  #level: LogLevel = 'warn';
  readonly #sink: Logger;

  constructor(sink: Logger, level: LogLevel) {
    this.#sink = sink;
    this.level = level;
  }

  get level(): LogLevel {
    return this.#level;
  }

  set level(level: LogLevel) {
    const n = LEVELS[level];
    this.#level = level;
    const sink = this.#sink;
    this.info = n >= LEVELS.info && sink.info ? (m, ...a) => sink.info!(m, ...a) : undefined;
    this.debug = n >= LEVELS.debug && sink.debug ? (m, ...a) => sink.debug!(m, ...a) : undefined;
  }

  error(msg: string, ...meta: unknown[]): void {
    this.#sink.error(msg, ...meta);
  }

  warn(msg: string, ...meta: unknown[]): void {
    if (LEVELS[this.#level] >= LEVELS.warn) this.#sink.warn(msg, ...meta);
  }
}
