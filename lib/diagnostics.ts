/**
 * `node:diagnostics_channel` channels (as undici publishes its own), for tracing and metrics
 * tools. Nothing is built or published unless someone subscribes: every publisher checks
 * `hasSubscribers` first. The module is looked up at run time (`process.getBuiltinModule`), so
 * runtimes without it (browsers) get inert channels and no import of a Node built-in.
 *
 * | channel                     | message                                                    |
 * | --------------------------- | ---------------------------------------------------------- |
 * | `oxenmq:request:start`      | `{ command, conn }` — a request was handed to its connection |
 * | `oxenmq:request:end`        | `{ command, conn, outcome, durationMs }` — `outcome` is `'reply'` or the error code |
 * | `oxenmq:command`            | `{ command, conn, remote, request }` — a command was admitted to run |
 * | `oxenmq:connection:open`    | `{ conn, address, direction }` — `'outgoing'` or `'incoming'` |
 * | `oxenmq:connection:close`   | `{ conn, reason, direction }`                              |
 */
import type { ConnectionID } from './connection-id.js';

/** The part of a diagnostics channel we use. */
export interface Channel<M> {
  readonly hasSubscribers: boolean;
  publish(message: M): void;
}

/** `oxenmq:request:start`. */
export interface RequestStartMessage {
  /** The requested command. */
  readonly command: string;
  /** Where it went: a ConnectionID, or a service node's pubkey. */
  readonly conn: ConnectionID | Uint8Array;
}
/** `oxenmq:request:end`. */
export interface RequestEndMessage extends RequestStartMessage {
  /** `'reply'`, or the code the request failed with (`'TIMEOUT'`, `'FORBIDDEN'`, `'ABORT_ERR'`, …). */
  readonly outcome: string;
  /** From start to end, in ms (0 when nobody listened at the start). */
  readonly durationMs: number;
}
/** `oxenmq:command`. */
export interface CommandMessage {
  /** `category.command` as registered. */
  readonly command: string;
  /** Who sent it. */
  readonly conn: ConnectionID;
  /** The sender's address. */
  readonly remote: string;
  /** True for a request command (a reply is expected). */
  readonly request: boolean;
}
/** `oxenmq:connection:open`. */
export interface ConnectionOpenMessage {
  /** The connection. */
  readonly conn: ConnectionID;
  /** The endpoint dialled (outgoing) or the peer's address (incoming). */
  readonly address: string;
  /** Which side opened it: we did (`outgoing`) or the peer did (`incoming`). */
  readonly direction: 'outgoing' | 'incoming';
}
/** `oxenmq:connection:close`. */
export interface ConnectionCloseMessage {
  /** The connection. */
  readonly conn: ConnectionID;
  /** Why it closed. */
  readonly reason: string;
  /** Which side had opened it. */
  readonly direction: 'outgoing' | 'incoming';
}

const INERT: Channel<never> = { hasSubscribers: false, publish() {} };

type DiagnosticsChannel = { channel(name: string): Channel<unknown> };

function lookup(): DiagnosticsChannel | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsChannel | undefined;
  } catch {
    return undefined;
  }
}

const dc = lookup();

function channel<M>(name: string): Channel<M> {
  return dc ? (dc.channel(name) as Channel<M>) : (INERT as Channel<M>);
}

/** The channels, by the names in the module header. */
export const channels = {
  requestStart: channel<RequestStartMessage>('oxenmq:request:start'),
  requestEnd: channel<RequestEndMessage>('oxenmq:request:end'),
  command: channel<CommandMessage>('oxenmq:command'),
  connectionOpen: channel<ConnectionOpenMessage>('oxenmq:connection:open'),
  connectionClose: channel<ConnectionCloseMessage>('oxenmq:connection:close'),
} as const;
