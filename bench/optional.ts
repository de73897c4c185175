/**
 * Feature detection for the parts of the project (and the comparison peers) that may not be
 * there: native zeromq is an optional dev dependency, and curve/index.ts and lib/oxenmq.ts are
 * being written concurrently. Each loader resolves to the module or to a reason it is missing,
 * so a case can print "skipped: …" instead of the CLI failing to start.
 *
 * The project modules are imported by computed URL (relative to this compiled file, which sits in
 * dist/bench/) rather than statically, so the bench type-checks and builds before they exist; the
 * interfaces below are the API shapes the cases are written against.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MechanismFactory } from '../zmtp/index.js';

/** zeromq.js, typed from its own declarations. */
export type Zmq = typeof import('zeromq');

/** Either the module or why it is not available. */
export type Loaded<T> = { ok: true; mod: T; from: string } | { ok: false; reason: string };

/** The CURVE API the handshake case and --curve use (curve/index.ts). */
export interface CurveMechanisms {
  curveClient(opts: { serverKey: Uint8Array; publicKey: Uint8Array; secretKey: Uint8Array }): MechanismFactory;
  curveServer(opts: { publicKey: Uint8Array; secretKey: Uint8Array }): MechanismFactory;
}

/** The box functions the crypto case measures (curve/box.ts, re-exported by curve/index.ts). */
export interface CurveBox {
  beforenm(theirPublic: Uint8Array, mySecret: Uint8Array): Uint8Array;
  seal(key: Uint8Array, nonce: Uint8Array, message: Uint8Array, out?: Uint8Array, outOffset?: number): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, boxed: Uint8Array, out?: Uint8Array, outOffset?: number): Uint8Array | null;
}

/** Handle of an OxenMQ connection (lib/connection-id.ts); opaque to the bench. */
export type OmqConnection = object;

/** The message a request handler receives. */
export interface OmqMessage {
  data: Buffer[];
  sendReply(...parts: (Buffer | Uint8Array | string)[]): void;
}

/** The slice of the OxenMQ class (lib/oxenmq.ts) the reqrep case drives. */
export interface OmqInstance {
  listenPlain(bind: string, ...rest: unknown[]): unknown;
  listenCurve(bind: string, ...rest: unknown[]): unknown;
  addCategory(name: string, access: string, ...rest: unknown[]): { addRequestCommand(name: string, handler: (msg: OmqMessage) => void): unknown };
  start?(): unknown;
  connectRemote(address: string, ...rest: unknown[]): Promise<OmqConnection>;
  request(conn: OmqConnection, cmd: string, parts: (Buffer | Uint8Array | string)[]): Promise<Buffer[]>;
  disconnect?(conn: OmqConnection): unknown;
  close?(): unknown;
  stop?(): unknown;
}

/** lib/oxenmq.ts's exports. */
export interface OmqModule {
  OxenMQ: new (opts?: Record<string, unknown>) => OmqInstance;
}

const cache = new Map<string, Promise<Loaded<unknown>>>();

function memo<T>(key: string, load: () => Promise<Loaded<T>>): Promise<Loaded<T>> {
  let p = cache.get(key);
  if (p === undefined) {
    p = load();
    cache.set(key, p);
  }
  return p as Promise<Loaded<T>>;
}

function why(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** Imports a project module relative to dist/bench/, if its compiled file exists. */
async function importProject(rel: string): Promise<Loaded<Record<string, unknown>>> {
  const url = new URL(rel, import.meta.url);
  const src = rel.replace(/^(\.\.\/)+/, '').replace(/\.js$/, '.ts');
  if (!existsSync(fileURLToPath(url))) return { ok: false, reason: `${src} does not exist yet` };
  try {
    return { ok: true, mod: (await import(url.href)) as Record<string, unknown>, from: src };
  } catch (err) {
    return { ok: false, reason: `${src} failed to load: ${why(err)}` };
  }
}

/** Native zeromq (libzmq through zeromq.js), when installed. */
export function loadZeromq(): Promise<Loaded<Zmq>> {
  return memo('zeromq', async () => {
    try {
      const mod = (await import('zeromq')) as Zmq;
      return { ok: true, mod, from: `zeromq.js (libzmq ${mod.version})` };
    } catch (err) {
      return { ok: false, reason: `zeromq is not installed or failed to load: ${why(err)}` };
    }
  });
}

/** The CURVE mechanism factories from curve/index.ts. */
export function loadCurve(): Promise<Loaded<CurveMechanisms>> {
  return memo('curve', async () => {
    const m = await importProject('../curve/index.js');
    if (!m.ok) return m;
    if (typeof m.mod['curveClient'] !== 'function' || typeof m.mod['curveServer'] !== 'function') {
      return { ok: false, reason: 'curve/index.ts does not export curveClient/curveServer yet' };
    }
    return { ok: true, mod: m.mod as unknown as CurveMechanisms, from: m.from };
  });
}

/**
 * The box functions: from curve/index.ts when it re-exports them, else straight from curve/box.ts
 * (which exists before the index does), so the crypto case can run early.
 */
export function loadBox(): Promise<Loaded<CurveBox>> {
  return memo('box', async () => {
    const reasons: string[] = [];
    for (const rel of ['../curve/index.js', '../curve/box.js']) {
      const m = await importProject(rel);
      if (!m.ok) {
        reasons.push(m.reason);
        continue;
      }
      if (['beforenm', 'seal', 'open'].every((k) => typeof m.mod[k] === 'function')) {
        return { ok: true, mod: m.mod as unknown as CurveBox, from: m.from };
      }
      reasons.push(`${m.from} does not export beforenm/seal/open`);
    }
    return { ok: false, reason: reasons.join('; ') };
  });
}

/** The OxenMQ class from lib/oxenmq.ts. */
export function loadOxenmq(): Promise<Loaded<OmqModule>> {
  return memo('oxenmq', async () => {
    const m = await importProject('../lib/oxenmq.js');
    if (!m.ok) return m;
    if (typeof m.mod['OxenMQ'] !== 'function') return { ok: false, reason: 'lib/oxenmq.ts does not export OxenMQ yet' };
    return { ok: true, mod: m.mod as unknown as OmqModule, from: m.from };
  });
}

/** libsodium (its wasm build, libsodium-wrappers): the crypto case's reference. */
export interface Sodium {
  crypto_box_beforenm(pk: Uint8Array, sk: Uint8Array): Uint8Array;
  crypto_box_easy_afternm(msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  crypto_box_open_easy_afternm(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
}

/** libsodium-wrappers, ready, when installed. */
export function loadSodium(): Promise<Loaded<Sodium>> {
  return memo('sodium', async () => {
    try {
      const m = (await import('libsodium-wrappers')) as unknown as { default: Sodium & { ready: Promise<void> } };
      await m.default.ready;
      return { ok: true, mod: m.default, from: 'libsodium-wrappers (wasm)' };
    } catch (err) {
      return { ok: false, reason: `libsodium-wrappers is not installed: ${why(err)}` };
    }
  });
}
