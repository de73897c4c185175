/**
 * What the engine needs of its runtime beyond the ECMAScript standard, reached so that the same
 * code runs in Node, Bun, Deno and browsers: a Node built-in is looked up through
 * `process.getBuiltinModule` (Node ≥ 20.16, Bun, Deno) when present, never imported, and each
 * scheduling primitive falls back to its web-standard counterpart.
 */

type NodeProcess = {
  getBuiltinModule?: (id: string) => unknown;
  nextTick?: (fn: (arg: never) => void, arg: never) => void;
};
const proc = (globalThis as { process?: NodeProcess }).process;

/** The Node built-in module `id` where the runtime offers one, else undefined (browsers). */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn(arg)` once the current synchronous work is done, before any I/O: process.nextTick
 * where it exists (it runs ahead of promise reactions, so a batch closes before awaiting code
 * resumes), else a microtask.
 */
export const endOfTurn: <T>(fn: (arg: T) => void, arg: T) => void =
  typeof proc?.nextTick === 'function'
    ? (proc.nextTick as unknown as <T>(fn: (arg: T) => void, arg: T) => void)
    : (fn, arg) => queueMicrotask(() => fn(arg));

const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

/** Runs `fn` in a later turn of the event loop, after pending I/O (setImmediate, else a 0 ms timer). */
export function later(fn: () => void): void {
  if (immediate !== undefined) immediate(fn);
  else setTimeout(fn, 0);
}
