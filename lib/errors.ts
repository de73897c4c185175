/**
 * The typed error family of the OxenMQ layer (lib/). Codes are stable strings (`ERR_OMQ_*`);
 * wire-layer failures keep their {@link ZmtpError} as `cause`.
 */

/** Stable error codes of the OxenMQ layer. */
export const OmqErrorCode = {
  /** An argument has the wrong type or value at the public API. */
  INVALID_ARGUMENT: 'ERR_OMQ_INVALID_ARGUMENT',
  /** The call is not allowed in the instance's current state (e.g. registering after start()). */
  INVALID_STATE: 'ERR_OMQ_INVALID_STATE',
  /** An address string cannot be parsed (PROTOCOL.md §7.2). */
  BAD_ADDRESS: 'ERR_OMQ_BAD_ADDRESS',
  /** A key or encoded string (hex, base32z, base64) is malformed. */
  BAD_ENCODING: 'ERR_OMQ_BAD_ENCODING',
  /** bt-encoded input is malformed. */
  BT_DECODE: 'ERR_OMQ_BT_DECODE',
  /** A value cannot be bt-encoded. */
  BT_ENCODE: 'ERR_OMQ_BT_ENCODE',
  /** A category, command or alias registration violates the rules of §4.1. */
  REGISTRATION: 'ERR_OMQ_REGISTRATION',
  /** connect_remote failed (timeout, bad address). */
  CONNECT_FAILED: 'ERR_OMQ_CONNECT_FAILED',
  /** A message could not be sent (no connection, queue full). */
  SEND_FAILED: 'ERR_OMQ_SEND_FAILED',
  /** A job, batch or worker-pool task failed. */
  JOB_FAILED: 'ERR_OMQ_JOB_FAILED',
  /** A worker-pool task ran past its timeout. */
  JOB_TIMEOUT: 'ERR_OMQ_JOB_TIMEOUT',
  /** The instance is closed. */
  CLOSED: 'ERR_OMQ_CLOSED',
} as const;

export type OmqErrorCode = (typeof OmqErrorCode)[keyof typeof OmqErrorCode];

/** An error of the OxenMQ layer, with a stable `code`. */
export class OmqError extends Error {
  override readonly name: string = 'OmqError';
  readonly code: string;

  constructor(code: OmqErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Why a request failed: the OxenMQ reason a C++ callback would receive as `false, [reason]`. */
export type RequestErrorCode =
  | 'TIMEOUT'
  | 'FORBIDDEN'
  | 'FORBIDDEN_SN'
  | 'NOT_A_SERVICE_NODE'
  | 'UNKNOWNCOMMAND'
  | 'NO_REPLY_TAG';

/**
 * A failed `request()`: `code` is the OxenMQ reason (`TIMEOUT` when no reply came in time or the
 * request could not be sent; otherwise the error the remote answered with).
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly code: RequestErrorCode;
  /** The command that was requested. */
  readonly command: string;

  constructor(code: RequestErrorCode, command: string, message?: string, options?: { cause?: unknown }) {
    super(message ?? `request ${command} failed: ${code}`, options);
    this.code = code;
    this.command = command;
  }
}
