/**
 * oxenmq-ts: a pure-TypeScript OxenMQ, wire-compatible with C++ oxenmq and libzmq.
 *
 * The OxenMQ layer is the main API; the ZMTP and CurveZMQ layers are exported too for programs
 * that want plain ZeroMQ ROUTER/DEALER sockets without the OxenMQ conventions.
 */
export * from './errors.js';
export * from './auth.js';
export * from './address.js';
export * from './connection-id.js';
export * from './encoding.js';
export * from './bt.js';
export * from './pubsub.js';
export * from './logger.js';
export * from './message.js';
export * from './send.js';
export {
  OxenMQ,
  CategoryHelper,
  type OxenMQOptions,
  type AllowFunc,
  type CommandHandler,
  type ConnectRemoteOptions,
  type ConnectSnOptions,
  type LogLevel,
  type RequestCallback,
} from './oxenmq.js';
export {
  Batch,
  JobResult,
  RUN_IN_PROXY,
  Scheduler,
  type SchedulerOptions,
  type SchedulerStats,
  type SubmitResult,
  type TaggedThreadID,
  type TimerID,
} from './scheduler.js';
export { WorkerJobError, WorkerJobFailure, type WorkerJobSpec } from './worker-pool.js';
export * as zmtp from '../zmtp/index.js';
export * as curve from '../curve/index.js';
export { ZmtpError, ZmtpErrorCode, isZmtpError } from '../zmtp/index.js';
