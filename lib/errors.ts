/**
 * The one error family of the OxenMQ layer (lib/): {@link OmqError} with a stable `code`, and two
 * subclasses that narrow it — {@link RequestError} (why a request failed) and
 * {@link WorkerJobError} (why a worker-pool job failed). Wire-layer failures keep their
 * `ZmtpError` (code `ERR_ZMTP_*`) as `cause`. Messages never echo bytes a peer sent.
 */

/** Stable codes of the OxenMQ layer's own failures. */
export const OmqErrorCode = {
  /** An argument has the wrong type or value at the public API. */
  INVALID_ARGUMENT: 'ERR_OMQ_INVALID_ARGUMENT',
  /** The call is not allowed in the instance's current state (e.g. registering after start()). */
  INVALID_STATE: 'ERR_OMQ_INVALID_STATE',
  /** An address string cannot be parsed. */
  BAD_ADDRESS: 'ERR_OMQ_BAD_ADDRESS',
  /** A key or encoded string (hex, base32z, base64) is malformed. */
  BAD_ENCODING: 'ERR_OMQ_BAD_ENCODING',
  /** bt-encoded input is malformed. */
  BT_DECODE: 'ERR_OMQ_BT_DECODE',
  /** A value cannot be bt-encoded. */
  BT_ENCODE: 'ERR_OMQ_BT_ENCODE',
  /** A category, command or alias registration breaks the naming rules. */
  REGISTRATION: 'ERR_OMQ_REGISTRATION',
  /** connectRemote failed (timeout, refusal, bad address); `cause` says more. */
  CONNECT_FAILED: 'ERR_OMQ_CONNECT_FAILED',
  /** A message could not be sent (no connection, queue full); `cause` says more. */
  SEND_FAILED: 'ERR_OMQ_SEND_FAILED',
  /** A listener could not bind its address; `cause` is the system error (e.g. EADDRINUSE). */
  BIND_FAILED: 'ERR_OMQ_BIND_FAILED',
  /** This runtime cannot do it (in a browser: listening, tcp:// and ipc://, worker jobs). */
  UNSUPPORTED: 'ERR_OMQ_UNSUPPORTED',
  /** The instance is closed. */
  CLOSED: 'ERR_OMQ_CLOSED',
  /** The caller's AbortSignal fired (Node's code for an AbortError). */
  ABORTED: 'ABORT_ERR',
  /** A batch or worker job threw or rejected. */
  JOB_FAILED: 'ERR_OMQ_JOB_FAILED',
  /** A worker job ran past its timeout; its worker was terminated. */
  JOB_TIMEOUT: 'ERR_OMQ_JOB_TIMEOUT',
  /** A worker job's arguments or result cannot be structured-cloned. */
  JOB_NOT_CLONEABLE: 'ERR_OMQ_JOB_NOT_CLONEABLE',
  /** A worker job's module cannot be loaded (or is not given as a URL or absolute path). */
  JOB_MISSING_MODULE: 'ERR_OMQ_JOB_MISSING_MODULE',
  /** A worker job's module has no exported function of the given name. */
  JOB_MISSING_EXPORT: 'ERR_OMQ_JOB_MISSING_EXPORT',
  /** The worker thread running a job died. */
  JOB_WORKER_EXITED: 'ERR_OMQ_JOB_WORKER_EXITED',
} as const;

export type OmqErrorCode = (typeof OmqErrorCode)[keyof typeof OmqErrorCode];

/**
 * The OxenMQ reasons a request can fail with, as a C++ callback receives them (`false,
 * [reason]`): `TIMEOUT` (no reply in time) or the error the remote answered with.
 * `UNKNOWNCOMMAND` and `NO_REPLY_TAG` are accepted when a peer sends them in the reply form, but
 * neither C++ oxenmq nor this library ever does: a request to an unknown command times out.
 */
export type RemoteRequestErrorCode = 'TIMEOUT' | 'FORBIDDEN' | 'FORBIDDEN_SN' | 'NOT_A_SERVICE_NODE' | 'UNKNOWNCOMMAND' | 'NO_REPLY_TAG';

/**
 * Why a request failed: an OxenMQ reason ({@link RemoteRequestErrorCode}), or a local failure —
 * `ERR_OMQ_SEND_FAILED` (it could not be sent; `cause` says why) or `ERR_OMQ_CLOSED` (the
 * instance closed while it was pending). C++ reports both local cases as `TIMEOUT`.
 */
export type RequestErrorCode = RemoteRequestErrorCode | typeof OmqErrorCode.SEND_FAILED | typeof OmqErrorCode.CLOSED;

/** The codes a {@link WorkerJobError} can carry. */
export type WorkerJobErrorCode =
  | typeof OmqErrorCode.JOB_FAILED
  | typeof OmqErrorCode.JOB_TIMEOUT
  | typeof OmqErrorCode.JOB_NOT_CLONEABLE
  | typeof OmqErrorCode.JOB_MISSING_MODULE
  | typeof OmqErrorCode.JOB_MISSING_EXPORT
  | typeof OmqErrorCode.JOB_WORKER_EXITED
  | typeof OmqErrorCode.CLOSED;

/** Every code an {@link OmqError} (or a subclass) can carry. */
export type OmqCode = OmqErrorCode | RequestErrorCode;

/** An error of the OxenMQ layer, with a stable `code`. */
export class OmqError<C extends OmqCode = OmqCode> extends Error {
  /** `'OmqError'`, or the subclass's name. */
  override readonly name: string = 'OmqError';
  /** The stable code: what failed, for programs to test (the message is for people). */
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * A failed `request()`: `code` says why ({@link RequestErrorCode}); `command` is what was
 * requested.
 */
export class RequestError extends OmqError<RequestErrorCode> {
  /** `'RequestError'`. */
  override readonly name: string = 'RequestError';
  /** The command that was requested. */
  readonly command: string;

  constructor(code: RequestErrorCode, command: string, message?: string, options?: { cause?: unknown }) {
    super(code, message ?? `request ${command} failed: ${code}`, options);
    this.command = command;
  }
}

/**
 * A failed worker-pool job ({@link WorkerJobErrorCode}). For a job that threw, `cause` is an
 * `Error` carrying the original `name`, `message` and worker stack.
 */
export class WorkerJobError extends OmqError<WorkerJobErrorCode> {
  /** `'WorkerJobError'`. */
  override readonly name: string = 'WorkerJobError';
  /** The `name` of the error the job threw in the worker (e.g. `'RangeError'`), when it threw one. */
  readonly originalName: string | undefined;

  constructor(code: WorkerJobErrorCode, message: string, options?: { cause?: unknown; originalName?: string }) {
    super(code, message, options);
    this.originalName = options?.originalName;
  }
}

/**
 * An operation given an `AbortSignal` was aborted: `name` is `'AbortError'` and `code` is
 * `'ABORT_ERR'`, as Node's own; `cause` is `signal.reason`.
 */
export class AbortError extends OmqError<typeof OmqErrorCode.ABORTED> {
  /** `'AbortError'`, as Node's own. */
  override readonly name: string = 'AbortError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(OmqErrorCode.ABORTED, message, options);
  }
}

/** True when `err` is an {@link OmqError} (or subclass), optionally with the given code. */
export function isOmqError<C extends OmqCode>(err: unknown, code?: C): err is OmqError<C> {
  return err instanceof OmqError && (code === undefined || err.code === code);
}
