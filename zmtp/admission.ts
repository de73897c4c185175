/**
 * Who may finish a handshake with us. Every mechanism hands the peer's metadata here once its
 * own checks pass (NULL READY, RFC 37 §"The NULL Security Mechanism"; CURVE INITIATE or READY,
 * RFC 26): the peer's Socket-Type must be one libzmq pairs with ours (libzmq `src/mechanism.cpp`,
 * `mechanism_t::check_socket_type`), its Identity at most 255 bytes and not starting with 0x00
 * (reserved for generated routes, RFC 37 §"The Socket-Type Property" / libzmq `src/router.cpp`),
 * and a listener then asks its authentication hook, which stands where libzmq consults a ZAP
 * handler (RFC 27).
 *
 * The hook's verdict carries data of the owner's choosing (`A`), which the connection keeps and
 * exposes typed on its {@link Peer} view: owners never cast.
 */
import { EMPTY_BYTES, latin1String } from './bytes.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { type Metadata, decodeMetadata } from './metadata.js';

/** The ZMTP socket types this package speaks. */
export type SocketType = 'DEALER' | 'ROUTER';

/** Peer socket types libzmq accepts for each of ours (libzmq `mechanism_t::check_socket_type`). */
const COMPATIBLE: Record<SocketType, readonly string[]> = {
  DEALER: ['REP', 'DEALER', 'ROUTER'],
  ROUTER: ['REQ', 'DEALER', 'ROUTER'],
};

const EMPTY = EMPTY_BYTES;

/** What the listener's authentication hook is told about a peer. */
export interface AuthRequest {
  /** Remote IP address (TCP) or "localhost" (IPC). */
  address: string;
  /** "NULL" or "CURVE". */
  mechanism: string;
  /** CURVE: the client's long-term public key. */
  publicKey?: Uint8Array;
  /** The peer's announced routing id (may be empty). */
  identity: Uint8Array;
  /** All metadata the peer sent, names lower-cased. */
  metadata: Metadata;
}

/**
 * The hook's answer: admit, optionally attaching `data` to the connection (it becomes the peer's
 * {@link Peer.authData}), or deny with a ZAP status code sent as the ERROR reason (default "400").
 */
export type AuthDecision<A = unknown> = boolean | { allow: true; data?: A } | { allow: false; status?: '400' | '500' | string };

/** Listener authentication hook; may be asynchronous. Called once per connection. */
export type Authenticator<A = unknown> = (req: AuthRequest) => AuthDecision<A> | Promise<AuthDecision<A>>;

/** A hook's decision, normalised: admitted with its data, or denied with a status (and why). */
export type Verdict<A> = { allow: true; data: A | undefined } | { allow: false; status: string; cause?: unknown };

/**
 * A read-only view of the peer at the other end of a connection, once its handshake has
 * completed. `A` is the type of the data the listener's authentication hook attached.
 */
export interface Peer<A = unknown> {
  /** A small number unique to the connection in this process, for logs. */
  readonly serial: number;
  /** Remote IP address (TCP) or "localhost" (IPC). */
  readonly remoteAddress: string;
  /** The security mechanism ("NULL", "CURVE"). */
  readonly mechanism: string;
  /** The peer's announced routing id (may be empty). */
  readonly identity: Uint8Array;
  /** The peer's long-term public key (CURVE), else undefined. */
  readonly publicKey: Uint8Array | undefined;
  /** All metadata the peer sent, names lower-cased. */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
  /** What the authentication hook attached ({@link AuthDecision}); undefined without one. */
  readonly authData: A | undefined;
  /**
   * The owner keeps `bytes` of a delivered message for later (e.g. a command waiting for a
   * handler): they count as this connection's input, against its `maxInputBytes` and the process
   * input budget, until the returned function is called (once; later calls do nothing, and a
   * connection that closes gives everything back itself). While over either limit, the
   * connection stops reading at the next message boundary.
   */
  hold(bytes: number): () => void;
}

/** The peer's identity and metadata, once checked. */
export interface AdmittedPeer {
  identity: Uint8Array;
  metadata: Metadata;
}

/** The admission rules of one socket: its type, and on a listener its authentication hook. */
export class Admission<A = unknown> {
  /**
   * @param socketType our own socket type, announced in our metadata and matched against the peer's.
   * @param authenticate the listener's hook; none means every well-formed peer is admitted.
   */
  constructor(
    readonly socketType: SocketType,
    private readonly authenticate?: Authenticator<A>,
  ) {}

  /** True when admission waits for an authentication hook. */
  get hasHook(): boolean {
    return this.authenticate !== undefined;
  }

  /**
   * Decodes and checks the peer's metadata property list.
   * @throws ZmtpError SOCKET_TYPE for a missing or incompatible Socket-Type, IDENTITY for an
   *   invalid Identity, MALFORMED_COMMAND for a malformed property list.
   */
  check(metadata: Uint8Array): AdmittedPeer {
    const md = decodeMetadata(metadata);
    const typeBytes = md.get('socket-type');
    const type = typeBytes === undefined ? undefined : latin1String(typeBytes);
    if (type === undefined || !COMPATIBLE[this.socketType].includes(type)) {
      throw new ZmtpError(ZmtpErrorCode.SOCKET_TYPE, `peer socket type is not compatible with ${this.socketType}`);
    }
    const identity = md.get('identity') ?? EMPTY;
    if (identity.length > 255 || (identity.length > 0 && identity[0] === 0)) {
      throw new ZmtpError(ZmtpErrorCode.IDENTITY, 'peer identity is longer than 255 bytes or starts with 0x00');
    }
    return { identity, metadata: md };
  }

  /**
   * Runs the hook on `req` and calls `done` exactly once with its verdict: synchronously for a
   * synchronous hook, so that an admitted peer's handshake ends in the same turn. A hook that
   * throws or rejects denies with "500" (the error as cause), as a failing ZAP handler does.
   * Without a hook every peer is admitted with no data.
   */
  decide(req: AuthRequest, done: (verdict: Verdict<A>) => void): void {
    const hook = this.authenticate;
    if (hook === undefined) {
      done({ allow: true, data: undefined });
      return;
    }
    let decision: AuthDecision<A> | Promise<AuthDecision<A>>;
    try {
      decision = hook(req);
    } catch (err) {
      done({ allow: false, status: '500', cause: err });
      return;
    }
    if (decision instanceof Promise) {
      decision.then(
        (d) => done(verdict(d)),
        (err: unknown) => done({ allow: false, status: '500', cause: err }),
      );
    } else {
      done(verdict(decision));
    }
  }
}

function verdict<A>(d: AuthDecision<A>): Verdict<A> {
  if (d === true) return { allow: true, data: undefined };
  if (typeof d === 'object' && d !== null && d.allow === true) return { allow: true, data: d.data };
  const status = typeof d === 'object' && d !== null && d.allow === false && d.status ? d.status : '400';
  return { allow: false, status };
}
