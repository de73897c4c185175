/**
 * ZMTP 3.1 (RFC 23/37) over net.Socket: greeting, frame codec, NULL mechanism, heartbeats, and
 * libzmq-compatible ROUTER (listener) and DEALER (outgoing) roles. Knows nothing of OxenMQ.
 */
export * from './errors.js';
export * from './bytes.js';
export * from './clock.js';
export * from './frame.js';
export * from './command.js';
export * from './metadata.js';
export * from './greeting.js';
export * from './decoder.js';
export * from './encoder.js';
export * from './heartbeat.js';
export * from './mechanism.js';
export { nullMechanism } from './null.js';
export * from './options.js';
export * from './endpoint.js';
export * from './queue.js';
export * from './send-queue.js';
export * from './admission.js';
export { ZmtpConnection, type ConnectionOwner } from './connection.js';
export { ZmtpRouter, type RouterEvents, type RouterOptions, type RouterMessageHandler } from './router.js';
export { ZmtpDealer, type DealerEvents, type DealerMessageHandler, type DealerOptions, type DealerState } from './dealer.js';
