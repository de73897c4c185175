/**
 * The seam of the ZMTP 3.1 layer (RFC 23, RFC 37) for the layers above it: everything curve/
 * and lib/ use, and nothing else. curve/ and lib/ import zmtp/ only through this file; the
 * engine's internals (decoder, encoder, connection, greeting, heartbeat) stay behind it. What
 * the package exposes to its users is the smaller list in public.ts.
 */

// Errors and the byte helpers every layer shares.
export { ZmtpError, ZmtpErrorCode, isZmtpError } from './errors.js';
export {
  EMPTY_BYTES,
  base64String,
  bytesEqual,
  compareBytes,
  compareRanges,
  copyBytes,
  hexBytes,
  hexString,
  latin1Bytes,
  latin1Key,
  latin1String,
  newBytes,
  randomFill,
  readU16BE,
  readU32BE,
  readU64BE,
  utf8Bytes,
  utf8Key,
  utf8Length,
  utf8String,
  writeLatin1,
  writeU16BE,
  writeU32BE,
  writeU64BE,
  writeUtf8,
  zeroBytes,
} from './bytes.js';

export { endOfTurn, later, nodeBuiltin } from './runtime.js';

// Time and queues.
export { type Clock, ManualClock, type TimerHandle, systemClock } from './clock.js';
export { RingQueue } from './queue.js';
export { ByteBudget } from './budget.js';
export { LogThrottle, type LogThrottleOptions, type ThrottleSink } from './throttle.js';

// Wire pieces a security mechanism needs to read and build its handshake commands.
export { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, frameHeaderLength, writeFrameHeader } from './frame.js';
export { commandData, commandName, encodeCommand, isCommand } from './command.js';
export { type Metadata, decodeMetadata, encodeMetadata } from './metadata.js';
export type { FrameCodec, Mechanism, MechanismFactory, MechanismHost, MechanismRole } from './mechanism.js';
export { nullMechanism } from './null.js';

// Endpoints, options, admission and the two socket roles.
export { type Endpoint, formatEndpoint, parseEndpoint } from './endpoint.js';
export type { ZmtpLogger, ZmtpOptions } from './options.js';
export type { AuthDecision, AuthRequest, Authenticator, Peer } from './admission.js';
export type { OutgoingMessage } from './send-queue.js';
export type { AllowOrigin } from './origin.js';
export type { RouterEvents, RouterMessageHandler, RouterOptions, ZmtpRouter } from './router.js';
export type { ConnectParams, Connector } from './connector.js';
export { TypedEmitter } from './emitter.js';
// The runtime-neutral dealer: give it a connector (node.ts has Node's, ws-browser.ts a browser's).
export {
  type DealerEvents,
  type DealerMessageHandler,
  type DealerOptions,
  type DealerState,
  ZmtpDealer,
} from './dealer.js';
