/**
 * What each worker-pool thread runs: load the named module, call the named export with the
 * cloned arguments, post the result back. Every failure becomes a tagged response, so the worker
 * survives any job but a hang.
 *
 * `workerMain` must stay self-contained — no reference to anything outside its own body — because
 * the pool can start it from its source text (`new Worker(source, { eval: true })`) when the
 * entry file is not beside the library, as inside a bundle.
 */
import type { WorkerRequest, WorkerResponse } from './worker-pool.js';

/** The port a worker talks to the pool on (`worker_threads.parentPort`). */
export interface WorkerPort {
  on(event: 'message', fn: (req: WorkerRequest) => void): unknown;
  postMessage(msg: WorkerResponse): void;
}

/** Serves jobs on `port` until the worker is terminated. */
export function workerMain(port: WorkerPort): void {
  const errorFields = (err: unknown): { name?: string; message: string; stack?: string } => {
    if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
    if (typeof err === 'object' && err !== null && 'message' in err) {
      const e = err as { name?: unknown; message?: unknown };
      return { name: typeof e.name === 'string' ? e.name : undefined, message: String(e.message) };
    }
    return { message: String(err) };
  };
  const handle = async (req: WorkerRequest): Promise<void> => {
    const reply = (r: WorkerResponse) => port.postMessage(r);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(req.module)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // A module that exists but throws while loading is the job's own failure, not a missing module.
      const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_ESM_URL_SCHEME' || code === 'ERR_INVALID_URL';
      reply({ id: req.id, ok: false, reason: missing ? 'missing-module' : 'threw', ...errorFields(err) });
      return;
    }
    const fn = mod[req.export];
    if (typeof fn !== 'function') {
      reply({ id: req.id, ok: false, reason: 'missing-export', message: req.export });
      return;
    }
    let value: unknown;
    try {
      value = await (fn as (...a: unknown[]) => unknown)(...req.args);
    } catch (err) {
      reply({ id: req.id, ok: false, reason: 'threw', ...errorFields(err) });
      return;
    }
    try {
      reply({ id: req.id, ok: true, value });
    } catch (err) {
      // postMessage clones synchronously, so a DataCloneError surfaces here.
      reply({ id: req.id, ok: false, reason: 'not-cloneable', ...errorFields(err) });
    }
  };
  port.on('message', (req: WorkerRequest) => {
    void handle(req).catch((err) => {
      // Only reachable if even the error reply cannot be posted; let the pool see the worker die.
      setImmediate(() => {
        throw err;
      });
    });
  });
}

/** The inline form: a CommonJS script that starts {@link workerMain} in an eval'd worker. */
export function workerScript(): string {
  return `(${workerMain.toString()})(require('node:worker_threads').parentPort);`;
}
