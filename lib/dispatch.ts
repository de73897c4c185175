/**
 * What one incoming OxenMQ message means, as a pure function: the built-in messages (HI, HELLO,
 * REPLY, BYE and the five error replies), then command lookup and C++ oxenmq's checks in their
 * exact order (upstream `oxenmq/proxy.cpp` `proxy_to_worker`, `oxenmq/worker.cpp`):
 *
 *   1. not found (unknown, over-long, no dot)      → UNKNOWNCOMMAND
 *   2. peer's auth level below the category's       → FORBIDDEN
 *   3. category needs us to be a service node       → NOT_A_SERVICE_NODE
 *   4. category needs the peer to be a service node → FORBIDDEN_SN
 *   5. request command without a reply tag          → NO_REPLY_TAG
 *
 * A failed check is answered on the same connection: `[ERR][REPLY][tag]` when the command was
 * found, is a request command and carries a tag (the requester's callback then fails with ERR),
 * otherwise `[ERR][command as received]` (a request then times out, as in C++).
 *
 * Nothing here touches a socket, the scheduler or the clock: the caller applies the
 * {@link Outcome}, which keeps every rule testable without a connection.
 */
import { type Access, type AuthLevel, authLevelName } from './auth.js';
import type { ConnectionID } from './connection-id.js';
import type { RequestErrorCode } from './errors.js';
import type { Registry, ResolvedCommand } from './registry.js';
import { latin1String } from '../zmtp/index.js';

/** Where a message came from: one type for listeners and outgoing connections alike. */
export interface Origin {
  /** True on a connection we opened (HELLO and BYE mean something there), false on a listener. */
  readonly outgoing: boolean;
  /** Who sent it: the SN form when the peer is an active service node at this message. */
  readonly conn: ConnectionID;
  /** The peer's auth level on this connection. */
  readonly auth: AuthLevel;
  /** The peer is a service node at this message. */
  readonly remoteSn: boolean;
  /** The peer's address, for the handler and for logs. */
  readonly remote: string;
  /** What a handler is told of the peer's rights: `auth`, `remoteSn`, and our own `localSn`. */
  readonly access: Access;
}

/**
 * A log line an outcome asks for. A peer can cause these at will, so they are written rate
 * limited per `kind` and peer.
 */
export interface LogNote {
  readonly level: 'warn' | 'info' | 'debug';
  /** What kind of line this is, for rate limiting (e.g. 'unknown-command'). */
  readonly kind: string;
  readonly text: string;
}

/** What to do with one incoming message. */
export type Outcome =
  /** Run the command's handler with a Message built from these fields. */
  | {
      readonly kind: 'run';
      readonly resolved: ResolvedCommand;
      readonly data: Uint8Array[];
      readonly tag: Uint8Array | undefined;
    }
  /** Send these frames back on the connection the message came in on. */
  | { readonly kind: 'answer'; readonly frames: (Uint8Array | string)[]; readonly note?: LogNote }
  /** A REPLY to one of our requests. */
  | { readonly kind: 'reply'; readonly tag: Uint8Array; readonly data: Uint8Array[] }
  /** An error reply (`[ERR][REPLY][tag]`) to one of our requests. */
  | { readonly kind: 'request-failed'; readonly tag: Uint8Array; readonly code: RequestErrorCode }
  /** The listener's HELLO: a pending connectRemote on this connection is now established. */
  | { readonly kind: 'hello' }
  /** BYE on a connection we opened: close it (as `disconnect` with linger 0). */
  | { readonly kind: 'bye' }
  /** Nothing to do. */
  | { readonly kind: 'ignore'; readonly note?: LogNote };

const ERROR_REPLIES = new Set<string>(['FORBIDDEN', 'FORBIDDEN_SN', 'NOT_A_SERVICE_NODE', 'UNKNOWNCOMMAND', 'NO_REPLY_TAG']);
const IGNORE: Outcome = Object.freeze({ kind: 'ignore' });
const HELLO: Outcome = Object.freeze({ kind: 'hello' });
const BYE: Outcome = Object.freeze({ kind: 'bye' });

/** Peer-supplied names go into logs only when short and printable. */
export function safeName(s: string): string {
  return s.length <= 64 && /^[\x20-\x7e]*$/.test(s) ? JSON.stringify(s) : '(unprintable command)';
}

/**
 * Decides what one message means. `frames` are the message's frames (after the route, on a
 * listener); `localSn` says whether this instance runs as a service node.
 */
export function dispatch(frames: Uint8Array[], origin: Origin, registry: Registry, localSn: boolean): Outcome {
  if (frames.length === 0) return IGNORE;
  const first = frames[0]!;
  // The one built-in on every reply: recognised from its bytes, without making a string.
  if (first.length === 5 && first[0] === 0x52 && first[1] === 0x45 && first[2] === 0x50 && first[3] === 0x4c && first[4] === 0x59) {
    return frames.length < 2 ? IGNORE : { kind: 'reply', tag: frames[1]!, data: frames.slice(2) };
  }
  // Every built-in name is 2–18 upper-case bytes; application commands contain a dot.
  if (first.length >= 2 && first.length <= 18 && first[0]! >= 0x41 && first[0]! <= 0x5a) {
    const builtin = builtIn(latin1String(first), frames, origin);
    if (builtin !== undefined) return builtin;
  }
  return command(frames, origin, registry, localSn);
}

/** The built-in messages; undefined when `name` is not one. */
function builtIn(name: string, frames: Uint8Array[], origin: Origin): Outcome | undefined {
  switch (name) {
    case 'REPLY':
      return frames.length < 2 ? IGNORE : { kind: 'reply', tag: frames[1]!, data: frames.slice(2) };
    case 'HI':
      return origin.outgoing ? { kind: 'ignore', note: { level: 'warn', kind: 'misplaced-builtin', text: 'received HI on an outgoing connection; ignoring' } } : { kind: 'answer', frames: ['HELLO'] };
    case 'HELLO':
    case 'BYE':
      if (!origin.outgoing) return { kind: 'ignore', note: { level: 'warn', kind: 'misplaced-builtin', text: `received ${name} on a listener; ignoring` } };
      return name === 'HELLO' ? HELLO : BYE;
    default:
      if (!ERROR_REPLIES.has(name)) return undefined;
      // Peers older than oxenmq 1.1 answered unknown commands with a bare UNKNOWNCOMMAND.
      if (frames.length === 1 && name === 'UNKNOWNCOMMAND') return IGNORE;
      if (frames.length === 3 && frames[1]!.length === 5 && latin1String(frames[1]!) === 'REPLY') {
        return { kind: 'request-failed', tag: frames[2]!, code: name as RequestErrorCode };
      }
      return {
        kind: 'ignore',
        note: { level: 'warn', kind: 'error-reply', text: `received ${name}${frames.length > 1 ? ` for ${safeName(latin1String(frames[1]!))}` : ''}` },
      };
  }
}

/** Command lookup and the five checks. */
function command(frames: Uint8Array[], origin: Origin, registry: Registry, localSn: boolean): Outcome {
  const raw = frames[0]!;
  // Over-long names are unknown whatever they say: don't even make a string of them.
  const found = raw.length <= 251 ? registry.resolveBytes(raw) : undefined;
  let err: RequestErrorCode;
  let note: LogNote | undefined;
  if (found === undefined) {
    err = 'UNKNOWNCOMMAND';
    const shown = raw.length <= 251 ? safeName(latin1String(raw)) : '(over-long command)';
    note = { level: 'warn', kind: 'unknown-command', text: `invalid command ${shown} from ${origin.conn.toString()}` };
  } else {
    const { category, command } = found;
    const hasTag = frames.length > 1;
    if (origin.auth < category.access.auth) {
      err = 'FORBIDDEN';
      note = { level: 'info', kind: 'access-denied', text: `access denied to ${safeName(found.name)} for ${origin.conn.toString()} (${authLevelName(origin.auth)})` };
    } else if (category.access.localSn && !localSn) err = 'NOT_A_SERVICE_NODE';
    else if (category.access.remoteSn && !origin.remoteSn) err = 'FORBIDDEN_SN';
    else if (command.isRequest && !hasTag) err = 'NO_REPLY_TAG';
    else {
      return {
        kind: 'run',
        resolved: found,
        data: frames.slice(command.isRequest ? 2 : 1),
        tag: command.isRequest ? frames[1] : undefined,
      };
    }
    if (command.isRequest && hasTag) return { kind: 'answer', frames: [err, 'REPLY', frames[1]!], note };
  }
  return { kind: 'answer', frames: [err, raw], note };
}
