/**
 * Where the tool writes: stdout for results (awaited, so nothing is lost at exit), stderr for
 * one-line failures and, with --verbose, the library's log.
 */
import type { Logger } from '../lib/index.js';

/** Writes to stdout and resolves once the data is handed to the OS (or stdout has gone away). */
export function writeOut(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    // A closed pipe (`| head`) is not our failure: the error is swallowed by main's listener.
    process.stdout.write(data, () => resolve());
  });
}

/** One line on stderr. */
export function writeErr(line: string): void {
  process.stderr.write(line + '\n');
}

/**
 * One log call as one line: the message, then any detail (an Error by its message). Details may
 * come before the message (the order structured loggers take), so the first string leads.
 */
function logLine(level: string, args: unknown[]): string {
  const first = args.findIndex((a) => typeof a === 'string');
  const ordered = first > 0 ? [args[first], ...args.slice(0, first), ...args.slice(first + 1)] : args;
  const text = ordered.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : String(a)));
  return `[${level}] ${text.join(': ')}`;
}

/** The library's log lines on stderr, tagged with their level. */
export const stderrLogger: Logger = {
  error: (...args: unknown[]) => writeErr(logLine('error', args)),
  warn: (...args: unknown[]) => writeErr(logLine('warn', args)),
  info: (...args: unknown[]) => writeErr(logLine('info', args)),
  debug: (...args: unknown[]) => writeErr(logLine('debug', args)),
};

/**
 * The logging options of an OxenMQ instance: with --verbose everything; without, only errors
 * (a failed job or listener, never an expected failure such as a refused connection).
 */
export function logOptions(verbose: boolean | undefined): { logger: Logger; logLevel: 'debug' | 'error' } {
  return { logger: stderrLogger, logLevel: verbose ? 'debug' : 'error' };
}
