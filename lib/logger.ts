/**
 * The pluggable logger of the OxenMQ layer. Deliberately tiny: a `console` object fits, and so
 * does a structured logger (pino); the library never writes to the console itself.
 * Structurally compatible with the wire layer's logger, so one object can serve both.
 */

/**
 * Where the OxenMQ layer reports what a caller cannot see through a return value. Lines with a
 * detail object arrive as `(object, message)`, the order structured loggers (pino) expect and
 * console prints fully; plain lines as `(message)`.
 */
export interface Logger {
  /** Something went wrong that the library handled (a peer's bad input, a dropped message). */
  warn(msg: string, ...meta: unknown[]): void;
  /** Something failed: a handler or job threw, a listener failed. */
  error(msg: string, ...meta: unknown[]): void;
  /** Details for debugging; only called at level 'debug'. */
  debug?(msg: string, ...meta: unknown[]): void;
  /** Noteworthy events (denied connections, idle closes); only called at level 'info' or lower. */
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
 * The default logger: warnings and errors become process warnings (`process.emitWarning`, type
 * `OxenMQWarning`), which Node, Bun and Deno print on stderr unless told not to (`--no-warnings`,
 * or a `process.on('warning')` handler). So a handler that throws is visible out of the box, as
 * C++ oxenmq logs warnings by default; pass your own `logger` to route them elsewhere.
 */
export const processWarningLogger: Logger = {
  warn: (...args: unknown[]) => emitWarning(args),
  error: (...args: unknown[]) => emitWarning(args),
};

function emitWarning(args: unknown[]): void {
  const proc = (globalThis as { process?: { emitWarning?: (w: string, type: string) => void } }).process;
  if (typeof proc?.emitWarning !== 'function') return;
  const text = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : String(a)));
  // A structured call puts the object first: show the message first.
  if (args.length > 1 && typeof args[0] === 'object') text.push(text.shift()!);
  proc.emitWarning(text.join(': '), 'OxenMQWarning');
}

type LogFn = (...args: unknown[]) => void;

/**
 * Calls a user's log method so both console-style and structured loggers keep the details: a
 * lone object (usually an Error) goes first, the message second — `pino.warn(err, msg)` records
 * the error (pino drops arguments after a message that has no placeholders), and the
 * console's `warn(err, msg)` prints both.
 */
function write(sink: Logger, fn: LogFn, msg: string, meta: unknown[]): void {
  if (meta.length === 0) fn.call(sink, msg);
  else if (meta.length === 1 && typeof meta[0] === 'object' && meta[0] !== null) fn.call(sink, meta[0], msg);
  else fn.call(sink, msg, ...meta);
}

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
    const info = sink.info as LogFn | undefined;
    const debug = sink.debug as LogFn | undefined;
    this.info = n >= LEVELS.info && info ? (m, ...a) => write(sink, info, m, a) : undefined;
    this.debug = n >= LEVELS.debug && debug ? (m, ...a) => write(sink, debug, m, a) : undefined;
  }

  error(msg: string, ...meta: unknown[]): void {
    write(this.#sink, this.#sink.error as LogFn, msg, meta);
  }

  warn(msg: string, ...meta: unknown[]): void {
    if (LEVELS[this.#level] >= LEVELS.warn) write(this.#sink, this.#sink.warn as LogFn, msg, meta);
  }
}
