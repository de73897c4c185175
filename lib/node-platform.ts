/**
 * The Node runtime of an instance (also Bun's and Deno's): tcp://, ipc:// and ws:// through
 * node:net and `ws`, listeners, worker threads, and the CPU count from node:os.
 */
import { availableParallelism } from 'node:os';
import { ZmtpRouter, nodeConnector } from '../zmtp/node.js';
import { WorkerPool } from './jobs/worker-pool.js';
import type { Platform } from './platform.js';

export const nodePlatform: Platform = {
  connector: nodeConnector,
  router: (options) => new ZmtpRouter(options),
  workerPool: (options) => new WorkerPool(options),
  parallelism: availableParallelism(),
};
