/**
 * What both entries export besides their OxenMQ class: the Node entry (index.ts) and the browser
 * entry (browser.ts) add their own.
 */
export { DEFAULTS, type OxenMQOptions, type OxenMQSettings } from './options.js';
export type { AllowFunc } from './listeners.js';
export type { CommandHandler } from './registry.js';
export { Message, DeferredSend } from './message.js';
export { ConnectionID } from './connection-id.js';
export { Address, type AddressKeyEncoding, type AddressProtocol } from './address.js';
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
