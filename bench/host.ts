/**
 * Where the orchestrator's servers and clients run: a forked peer process (the default, so
 * client and server each get their own event loop and core, as libzmq's local_/remote_ tools
 * run), or the CLI process itself (--one-process).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientResult, ClientSpec, PeerRequest, PeerResponse, ServeInfo, ServeSpec } from './protocol.js';
import { PeerRuntime } from './runtime.js';
import { cpuUs } from './stopwatch.js';

/** The operations a case needs from one side. */
export interface PeerHost {
  serve(spec: ServeSpec): Promise<ServeInfo>;
  stop(id: number): Promise<void>;
  run(spec: ClientSpec, timeoutMs: number): Promise<ClientResult>;
  /** The host process's CPU time so far (user + system), in µs. */
  cpuUs(): Promise<number>;
  close(): Promise<void>;
}

/** Distributes a request body over the union without losing the discriminant. */
type RequestBody = PeerRequest extends infer R ? (R extends PeerRequest ? Omit<R, 'id'> : never) : never;

/** A forked dist/bench/peer.js, driven by request/response over IPC. */
export class ForkedHost implements PeerHost {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private exited: Promise<void>;

  constructor(readonly name: string) {
    // stdout ignored: the parent's stdout may be a JSON document. execArgv is inherited, so
    // `node --cpu-prof dist/bench/cli.js` profiles the peers too.
    this.child = fork(fileURLToPath(new URL('./peer.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (raw) => {
      const msg = raw as PeerResponse;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`${this.name} peer: ${msg.error}`));
    });
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', (code, signal) => {
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${this.name} peer process exited (${signal ?? code})`));
          this.pending.delete(id);
        }
        resolve();
      });
    });
  }

  private call<T>(body: RequestBody, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} peer: ${body.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ ...body, id } as PeerRequest);
    });
  }

  serve(spec: ServeSpec): Promise<ServeInfo> {
    return this.call({ op: 'serve', spec }, 30_000);
  }

  stop(id: number): Promise<void> {
    return this.call({ op: 'stop', server: id }, 30_000);
  }

  run(spec: ClientSpec, timeoutMs: number): Promise<ClientResult> {
    return this.call({ op: 'run', spec }, timeoutMs);
  }

  cpuUs(): Promise<number> {
    return this.call({ op: 'cpu' }, 30_000);
  }

  /** Disconnects (the peer then closes its servers and exits); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Both sides in this process, for --one-process and for profiling one isolate. */
export class LocalHost implements PeerHost {
  private readonly runtime = new PeerRuntime();

  serve(spec: ServeSpec): Promise<ServeInfo> {
    return this.runtime.serve(spec);
  }

  stop(id: number): Promise<void> {
    return this.runtime.stop(id);
  }

  run(spec: ClientSpec, timeoutMs: number): Promise<ClientResult> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`run timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.runtime.run(spec), t]).finally(() => clearTimeout(timer));
  }

  cpuUs(): Promise<number> {
    return Promise.resolve(cpuUs());
  }

  close(): Promise<void> {
    return this.runtime.closeAll();
  }
}
