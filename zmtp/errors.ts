/**
 * The typed error family of the wire layers (zmtp/ and curve/).
 *
 * Every error that can come from the network carries a stable `code` (`ERR_ZMTP_*`), never echoes
 * peer bytes in its message, and keeps the underlying error as `cause` where there is one.
 */

/** Stable error codes of the ZMTP and CurveZMQ layers. */
export const ZmtpErrorCode = {
  /** The peer's greeting does not start with the 0xFF…0x7F signature. */
  GREETING_SIGNATURE: 'ERR_ZMTP_GREETING_SIGNATURE',
  /** A greeting shorter than its 64 bytes was given to `decodeGreeting`. */
  GREETING_LENGTH: 'ERR_ZMTP_GREETING_LENGTH',
  /** The peer speaks a ZMTP version older than 3.0. */
  VERSION: 'ERR_ZMTP_VERSION',
  /** The peer's greeting names another security mechanism than ours. */
  MECHANISM_MISMATCH: 'ERR_ZMTP_MECHANISM_MISMATCH',
  /** A frame header has reserved flag bits set. */
  RESERVED_FLAGS: 'ERR_ZMTP_RESERVED_FLAGS',
  /** A command frame has the MORE flag set. */
  COMMAND_MORE: 'ERR_ZMTP_COMMAND_MORE',
  /** A frame is larger than `maxMessageSize` (or than 2^53 − 1). */
  FRAME_TOO_LARGE: 'ERR_ZMTP_FRAME_TOO_LARGE',
  /** A multipart message totals more bytes than `maxMultipartSize`. */
  MESSAGE_TOO_LARGE: 'ERR_ZMTP_MESSAGE_TOO_LARGE',
  /** A multipart message has more frames than `maxFramesPerMessage`. */
  TOO_MANY_FRAMES: 'ERR_ZMTP_TOO_MANY_FRAMES',
  /** A command frame is malformed (name length, property list, PING body). */
  MALFORMED_COMMAND: 'ERR_ZMTP_MALFORMED_COMMAND',
  /** A READY or INITIATE property list has more properties than we keep (see `decodeMetadata`). */
  METADATA_LIMIT: 'ERR_ZMTP_METADATA_LIMIT',
  /** A command or data frame arrived where the protocol state does not allow it. */
  UNEXPECTED_COMMAND: 'ERR_ZMTP_UNEXPECTED_COMMAND',
  /** The peer's `Socket-Type` is not compatible with ours. */
  SOCKET_TYPE: 'ERR_ZMTP_SOCKET_TYPE',
  /** The peer announced an invalid `Identity` (over 255 bytes or starting with 0x00). */
  IDENTITY: 'ERR_ZMTP_IDENTITY',
  /** The greeting and security handshake did not finish within `handshakeTimeout`. */
  HANDSHAKE_TIMEOUT: 'ERR_ZMTP_HANDSHAKE_TIMEOUT',
  /** Nothing arrived within the heartbeat timeout after a PING (or the peer's TTL). */
  HEARTBEAT_TIMEOUT: 'ERR_ZMTP_HEARTBEAT_TIMEOUT',
  /** The peer answered the handshake with a ZMTP ERROR command (e.g. "400" from ZAP). */
  PEER_ERROR: 'ERR_ZMTP_PEER_ERROR',
  /** Our listener's authentication hook denied the peer. */
  AUTH_DENIED: 'ERR_ZMTP_AUTH_DENIED',
  /** Sending to a route with no live connection (libzmq ROUTER_MANDATORY's EHOSTUNREACH). */
  HOST_UNREACHABLE: 'ERR_ZMTP_HOST_UNREACHABLE',
  /** The send queue is at its high-water mark (libzmq's EAGAIN for a non-blocking send). */
  QUEUE_FULL: 'ERR_ZMTP_QUEUE_FULL',
  /** The socket or connection is closed. */
  CLOSED: 'ERR_ZMTP_CLOSED',
  /** An endpoint string cannot be parsed or is not supported. */
  BAD_ENDPOINT: 'ERR_ZMTP_BAD_ENDPOINT',
  /** Binding a listener failed (address in use, permission). */
  BIND_FAILED: 'ERR_ZMTP_BIND_FAILED',
  /** A transport-level failure (ECONNRESET, EPIPE, …); `cause` holds the system error. */
  TRANSPORT: 'ERR_ZMTP_TRANSPORT',
  /** CurveZMQ: a bad HELLO (size, version, box). */
  CURVE_HELLO: 'ERR_ZMTP_CURVE_HELLO',
  /** CurveZMQ: a bad WELCOME (size, box: usually a wrong server key). */
  CURVE_WELCOME: 'ERR_ZMTP_CURVE_WELCOME',
  /** CurveZMQ: a bad INITIATE (size, cookie, box, vouch). */
  CURVE_INITIATE: 'ERR_ZMTP_CURVE_INITIATE',
  /** CurveZMQ: a bad READY (size, box, nonce). */
  CURVE_READY: 'ERR_ZMTP_CURVE_READY',
  /** CurveZMQ: a bad MESSAGE (size, box, nonce not strictly increasing). */
  CURVE_MESSAGE: 'ERR_ZMTP_CURVE_MESSAGE',
  /** CurveZMQ: an invalid key (wrong length, low-order point). */
  CURVE_KEY: 'ERR_ZMTP_CURVE_KEY',
  /** A ws:// or wss:// endpoint was used but the optional `ws` package is not installed. */
  WS_UNAVAILABLE: 'ERR_ZMTP_WS_UNAVAILABLE',
  /**
   * The WebSocket upgrade was refused or broken (HTTP path, Origin, no ZWS 2.0 subprotocol in
   * common, a malformed or stalled HTTP request, an HTTP error status from the server).
   */
  WS_UPGRADE: 'ERR_ZMTP_WS_UPGRADE',
  /** A WebSocket message that ZWS 2.0 does not allow (text, empty, a broken WebSocket frame). */
  WS_PROTOCOL: 'ERR_ZMTP_WS_PROTOCOL',
  /**
   * A bug of ours, not the peer's doing: code of the wire layer threw something other than a
   * ZmtpError while handling the connection. `cause` holds what was thrown; it is logged once at
   * error level.
   */
  INTERNAL: 'ERR_ZMTP_INTERNAL',
} as const;

export type ZmtpErrorCode = (typeof ZmtpErrorCode)[keyof typeof ZmtpErrorCode];

/** An error of the ZMTP or CurveZMQ layer, with a stable `code`. */
export class ZmtpError extends Error {
  override readonly name = 'ZmtpError';
  /** The stable code (`ERR_ZMTP_*`): what failed, for programs to test. */
  readonly code: ZmtpErrorCode;

  constructor(code: ZmtpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link ZmtpError}, optionally with the given code. */
export function isZmtpError(err: unknown, code?: ZmtpErrorCode): err is ZmtpError {
  return err instanceof ZmtpError && (code === undefined || err.code === code);
}
