/**
 * The pluggable logger of the OxenMQ layer. Deliberately tiny: a `console` object fits, and so
 * does any structured logger (pino, winston); the library itself never writes to the console.
 * Structurally compatible with the wire layer's `ZmtpLogger`, so one object can serve both.
 */

/** Where the OxenMQ layer reports what a caller cannot see through a return value. */
export interface Logger {
  warn(msg: string, ...meta: unknown[]): void;
  error(msg: string, ...meta: unknown[]): void;
  debug?(msg: string, ...meta: unknown[]): void;
  info?(msg: string, ...meta: unknown[]): void;
}

/** Discards everything: the default, so that a library never prints unless asked to. */
export const silentLogger: Logger = {
  warn() {},
  error() {},
};
