/**
 * A forked bench process driven by request/response over its IPC channel: the parent sends
 * `{ id, op, … }`, the child answers with a PeerResponse (`{ id, ok, value }` or `{ id, ok:
 * false, error }`). The memory and mesh cases use it for processes of their own, apart from the
 * shared client/server peers, so no other case's garbage or CPU lands in their figures.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PeerResponse } from './protocol.js';

/** A request to a child: an `op` and its arguments (the `id` is added by {@link ForkedChild.call}). */
export interface ChildRequest {
  op: string;
}

/** A child's request type without its `id` (which {@link ForkedChild.call} assigns), for each member of the union `R`. */
export type ChildBody<R> = R extends { id: number } ? Omit<R, 'id'> : never;

/** One forked child process (a file beside this one in dist/bench/), and the calls in flight to it. */
export class ForkedChild<R extends ChildRequest> {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private readonly exited: Promise<void>;

  /**
   * @param script the child's entry, relative to dist/bench/ (e.g. `memory-peer.js`)
   * @param role how errors name this child
   * @param execArgv extra Node flags (the CLI's own flags, e.g. --cpu-prof, are inherited)
   */
  constructor(script: string, readonly role: string, execArgv: readonly string[] = []) {
    this.child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      execArgv: [...process.execArgv, ...execArgv],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => {
      const msg = raw as PeerResponse;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`${this.role}: ${msg.error}`));
    });
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`${this.role} process exited (${signal ?? code})`));
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Sends one request and resolves with the child's answer; rejects after `timeoutMs`. */
  call<T>(body: R, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.role}: ${body.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...body, id });
    });
  }

  /** Asks the child to close (`{ op: 'close' }`), then disconnects (it exits); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      if (this.child.connected) await this.call({ op: 'close' } as R, 8_000).catch(() => undefined);
      if (this.child.connected) this.child.disconnect();
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The child's side: answers each request from the parent with `handle`'s result, and on
 * disconnect runs `onDisconnect` and exits, so an interrupted CLI leaves nothing behind.
 */
export function serveParent<R extends ChildRequest & { id: number }>(handle: (req: R) => Promise<unknown>, onDisconnect: () => Promise<void>): void {
  const reply = (msg: PeerResponse) => process.send!(msg);
  process.on('message', (raw) => {
    const req = raw as R;
    handle(req).then(
      (value) => reply({ id: req.id, ok: true, value: value ?? null }),
      (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  process.on('disconnect', () => {
    void onDisconnect().finally(() => process.exit(0));
  });
}
