/**
 * The native references the bench compares with, which stay optional at run time: zeromq.js
 * (libzmq), and libsodium both as a native addon (sodium-native) and as WebAssembly
 * (libsodium-wrappers). They are devDependencies, so their types are checked statically here,
 * but the published CLI runs where none of them is installed: a missing or broken one gives the
 * case a "skipped: …" row, never a CLI that fails to start.
 *
 * Each is imported on first use, so a process that never drives zeromq never loads its addon.
 */

/** zeromq.js, typed from its own declarations. */
export type Zmq = typeof import('zeromq');
/** sodium-native (libsodium compiled as a Node addon). */
export type SodiumNative = typeof import('sodium-native');
/** libsodium-wrappers (libsodium compiled to WebAssembly). */
export type SodiumWasm = (typeof import('libsodium-wrappers'))['default'];

/** Either the module, or the short reason shown in a skip row plus the loader's own message. */
export type Loaded<T> = { ok: true; mod: T; from: string } | { ok: false; reason: string; detail: string };

const cache = new Map<string, Promise<Loaded<unknown>>>();

function memo<T>(key: string, load: () => Promise<Loaded<T>>): Promise<Loaded<T>> {
  let p = cache.get(key);
  if (p === undefined) {
    p = load();
    cache.set(key, p);
  }
  return p as Promise<Loaded<T>>;
}

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND';
}

function failure(reason: string, err: unknown): { ok: false; reason: string; detail: string } {
  return { ok: false, reason, detail: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
}

/** CommonJS packages arrive as the namespace's default export; ESM ones as the namespace. */
function unwrap<T>(ns: T & { default?: T }): T {
  return ns.default ?? ns;
}

/** Native zeromq (libzmq through zeromq.js), when installed. */
export function loadZeromq(): Promise<Loaded<Zmq>> {
  return memo('zeromq', async () => {
    try {
      const mod = (await import('zeromq')) as Zmq;
      return { ok: true, mod, from: `zeromq.js (libzmq ${mod.version})` };
    } catch (err) {
      return failure(isMissing(err) ? 'zeromq not installed' : 'zeromq failed to load', err);
    }
  });
}

/** sodium-native, when installed and its prebuilt binary loads on this platform. */
export function loadSodiumNative(): Promise<Loaded<SodiumNative>> {
  return memo('sodium-native', async () => {
    try {
      const mod = unwrap(await import('sodium-native'));
      if (typeof mod.crypto_secretbox_easy !== 'function') throw new Error('sodium-native has no crypto_secretbox_easy');
      return { ok: true, mod, from: 'sodium-native (libsodium, native addon)' };
    } catch (err) {
      // Missing, or a prebuilt binary that does not load here: the same to the reader of the row.
      return failure('sodium-native unavailable', err);
    }
  });
}

/** libsodium-wrappers, initialised, when installed. */
export function loadSodiumWasm(): Promise<Loaded<SodiumWasm>> {
  return memo('libsodium-wrappers', async () => {
    try {
      const mod = unwrap(await import('libsodium-wrappers'));
      await mod.ready;
      return { ok: true, mod, from: 'libsodium-wrappers (libsodium, WebAssembly)' };
    } catch (err) {
      return failure(isMissing(err) ? 'libsodium-wrappers not installed' : 'libsodium-wrappers failed to load', err);
    }
  });
}
