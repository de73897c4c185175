/**
 * What an instance needs of its runtime, in one object so that the runtime-neutral core (core.ts)
 * never imports a Node module: the transports of outgoing connections, the ROUTER of listeners,
 * the pool of worker threads and the CPU count. The Node entry passes {@link nodePlatform}
 * (node-platform.ts); the browser entry one with the WebSocket connector only.
 */
import type { Connector, RouterOptions, ZmtpRouter } from '../zmtp/index.js';
import type { WorkerPool, WorkerPoolOptions } from './jobs/index.js';

/** The runtime services of an instance. */
export interface Platform {
  /** Opens outgoing connections (the addresses it serves are the runtime's). */
  readonly connector: Connector;
  /** Makes the ROUTER of a listener; absent where nothing can listen (browsers). */
  readonly router?: <A>(options: RouterOptions<A>) => ZmtpRouter<A>;
  /** Makes the pool for worker jobs; absent where there are no worker threads. */
  readonly workerPool?: (options: WorkerPoolOptions) => WorkerPool;
  /** CPUs to plan the scheduler's slots for. */
  readonly parallelism: number;
}
