/**
 * What the package exposes of its ZMTP 3.1 layer (RFC 23, RFC 37), on the `oxenmq-ts/zmtp`
 * subpath: plain ZeroMQ ROUTER and DEALER sockets over net.Socket, wire-compatible with libzmq,
 * and the types needed to configure them, authenticate peers and plug in a security mechanism
 * (CurveZMQ is in `oxenmq-ts/curve`). Only public classes and types: the engine's internals
 * are not part of the API.
 */
export { ZmtpDealer, ZmtpRouter, type RouterEvents, type RouterMessageHandler, type RouterOptions } from './node.js';
export {
  type DealerEvents,
  type DealerMessageHandler,
  type DealerOptions,
  type DealerState,
} from './dealer.js';
export { nullMechanism } from './null.js';
export { ZmtpError, ZmtpErrorCode, isZmtpError } from './errors.js';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.js';
export { ByteBudget } from './budget.js';
export type { ZmtpLogger, ZmtpOptions } from './options.js';
export type { AuthDecision, AuthRequest, Authenticator, Peer } from './admission.js';
export type { Metadata } from './metadata.js';
export type { OutgoingMessage } from './send-queue.js';
export type { AllowOrigin } from './origin.js';
export type { FrameCodec, Mechanism, MechanismFactory, MechanismHost, MechanismRole } from './mechanism.js';
