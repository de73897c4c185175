/**
 * The worker-pool thread's entry file (compiled beside `worker-pool.js`): serves jobs on the
 * parent port.
 */
import { parentPort } from 'node:worker_threads';
import { type WorkerPort, workerMain } from './worker-main.js';

if (!parentPort) throw new Error('worker-pool-entry must run inside a worker thread');
workerMain(parentPort as unknown as WorkerPort);
