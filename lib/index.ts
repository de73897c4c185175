/**
 * oxenmq-ts: a pure-TypeScript OxenMQ, wire-compatible with C++ oxenmq and libzmq.
 *
 * This entry is the OxenMQ API. The wire layers for plain ZeroMQ use are separate entries:
 * `oxenmq-ts/zmtp` (ROUTER and DEALER sockets, the NULL mechanism), `oxenmq-ts/curve` (the
 * CurveZMQ mechanisms and keys) and `oxenmq-ts/oxenc` (bt-encoding and the key encodings).
 */
export { OxenMQ, CategoryHelper, type ConnectRemoteOptions, type ConnectSnOptions, type RequestCallback } from './oxenmq.js';
export { DEFAULTS, type OxenMQOptions, type OxenMQSettings } from './options.js';
export type { AllowFunc } from './listeners.js';
export type { CommandHandler } from './registry.js';
export { Message, DeferredSend } from './message.js';
export { ConnectionID } from './connection-id.js';
export { Address, type AddressKeyEncoding, type AddressProtocol } from './address.js';
export { Gateway, type GatewayOptions, type GatewayRoute } from './gateway.js';
export { AuthLevel, type Access } from './auth.js';
export {
  AbortError,
  OmqError,
  OmqErrorCode,
  RequestError,
  WorkerJobError,
  isOmqError,
  type OmqCode,
  type RequestErrorCode,
  type WorkerJobErrorCode,
} from './errors.js';
export { ZmtpError, ZmtpErrorCode, isZmtpError, type AllowOrigin, type Clock } from '../zmtp/index.js';
export {
  Batch,
  JobResult,
  RUN_IN_PROXY,
  type CategoryStats,
  type SchedulerStats,
  type TaggedThreadID,
  type TimerID,
  type WorkerJobSpec,
} from './jobs/index.js';
export {
  Subscription,
  DEFAULT_SUBSCRIPTION_DURATION_MS,
  type PublishCallback,
  type SubscriptionClock,
  type SubscriptionOptions,
  type Unsubscribed,
} from './pubsub.js';
export { dataParts, type DataParts, type RequestOptions, type SendArg, type SendOptions } from './send.js';
export type { Logger, LogLevel } from './logger.js';
export type { OxenMQEvents, OxenMQListener } from './events.js';
export type {
  CommandMessage,
  ConnectionCloseMessage,
  ConnectionOpenMessage,
  RequestEndMessage,
  RequestStartMessage,
} from './diagnostics.js';
