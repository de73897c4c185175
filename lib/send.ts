/**
 * Send arguments and options (PROTOCOL.md §5.6): C++ mixes option objects with message parts in
 * one argument list; here any plain object in the list is an option set, `dataParts(...)` splices
 * a range of parts in place, and `undefined`/`null` are skipped (C++ `std::optional` unset).
 */
import type { OmqError } from './errors.js';

/** Options of `send()` (and `request()`). All SN-only options are ignored for non-SN targets, as in C++. */
export interface SendOptions {
  /** SN only: address to use instead of `snLookup` if a new connection is needed. */
  hint?: string;
  /** SN only: use an existing connection or drop the message. */
  optional?: boolean;
  /** SN only: use only an existing incoming connection, else drop. */
  incoming?: boolean;
  /** SN only: use (or open) only an outgoing connection. */
  outgoing?: boolean;
  /** SN only: keep-alive (ms) for a new connection, minimum for an existing one. Default 30 s. */
  keepAlive?: number;
  /** `request()` only: timeout in ms. Default 15 s. */
  requestTimeout?: number;
  /** Called when the message could not be queued, with the reason. */
  queueFailure?: (err: OmqError) => void;
  /** Called when the message was not sent because the connection's queue was full. */
  queueFull?: () => void;
}

/** Options of `request()`: `timeout` is a synonym of `requestTimeout`. */
export interface RequestOptions extends SendOptions {
  timeout?: number;
}

/** A range of parts spliced into a send at its position (C++ `send_option::data_parts`). */
export class DataParts {
  constructor(readonly parts: Iterable<Uint8Array | string>) {}
}

/** Splices every element of `parts` into the message, in order, as separate frames. */
export function dataParts(...parts: (Iterable<Uint8Array | string> | Uint8Array | string)[]): DataParts {
  const all: (Uint8Array | string)[] = [];
  for (const p of parts) {
    if (typeof p === 'string' || p instanceof Uint8Array) all.push(p);
    else for (const x of p) all.push(x);
  }
  return new DataParts(all);
}

/** One argument of `send()`: a part, a spliced range, options, or an unset optional. */
export type SendArg = Uint8Array | string | DataParts | SendOptions | undefined | null;

/** Splits mixed arguments into frames (after `head`) and merged options. */
export function collectArgs(head: (Uint8Array | string)[], args: readonly SendArg[]): { frames: (Uint8Array | string)[]; opts: SendOptions } {
  let opts: SendOptions | undefined;
  for (const a of args) {
    if (a === undefined || a === null) continue;
    if (typeof a === 'string' || a instanceof Uint8Array) head.push(a);
    else if (a instanceof DataParts) for (const p of a.parts) head.push(p);
    else if (typeof a === 'object') opts = opts ? { ...opts, ...a } : a;
    else throw new TypeError('send arguments must be strings, Uint8Arrays, dataParts() or option objects');
  }
  return { frames: head, opts: opts ?? EMPTY_OPTS };
}

const EMPTY_OPTS: SendOptions = Object.freeze({});
