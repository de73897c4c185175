/**
 * Sending: the arguments and options of `send()` and `request()`, and the delivery of a message
 * to its connection.
 *
 * C++ mixes option objects with message parts in one argument list (upstream `oxenmq/oxenmq.h`
 * `send_option`); here any plain object in the list is an option set, `dataParts(...)` splices a
 * range of parts in place, and `undefined`/`null` are skipped (C++ `std::optional` unset).
 */
import { isZmtpError, utf8Bytes, ZmtpDealer, ZmtpErrorCode } from '../zmtp/index.js';
import { ConnectionID } from './connection-id.js';
import { safeName } from './dispatch.js';
import { OmqError, OmqErrorCode } from './errors.js';
import type { Scheduler } from './jobs/index.js';
import type { Listeners } from './listeners.js';
import type { InstanceContext } from './options.js';
import type { Outgoing, Peers } from './peers.js';

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
  /** Fail with `TIMEOUT` when no reply arrives within this many ms (same as `requestTimeout`). */
  timeout?: number;
  /** Gives up on the request when aborted: it rejects with an `AbortError` (cause: `signal.reason`) and is forgotten. */
  signal?: AbortSignal;
}

/** A range of parts spliced into a send at its position (C++ `send_option::data_parts`). */
export class DataParts {
  /** @internal Use {@link dataParts}: it checks every part. */
  constructor(
    /** The parts, checked, in order. */
    readonly parts: readonly (Uint8Array | string)[],
  ) {}
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : typeof v;
}

/** A message part: a string (sent as UTF-8) or bytes. Anything else is a TypeError naming its index. */
function checkPart(p: unknown, where: string): asserts p is Uint8Array | string {
  if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
    throw new TypeError(`${where} is ${describe(p)}: message parts must be strings or Uint8Arrays`);
  }
}

/**
 * Splices every element of `parts` into the message, in order, as separate frames. Every element
 * is checked here: one that is not a string or Uint8Array throws a TypeError naming its index.
 */
export function dataParts(...parts: (Iterable<Uint8Array | string> | Uint8Array | string)[]): DataParts {
  const all: (Uint8Array | string)[] = [];
  for (const p of parts) {
    if (typeof p === 'string' || p instanceof Uint8Array) all.push(p);
    else if (p != null && typeof (p as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const x of p) {
        checkPart(x, `dataParts: part ${all.length}`);
        all.push(x);
      }
    } else checkPart(p, `dataParts: part ${all.length}`);
  }
  return new DataParts(all);
}

/**
 * Checks the parts array of a request for `command` before anything is sent; returns the first
 * problem as a TypeError naming its index, or undefined. The message is built only on failure:
 * this runs on every request.
 */
export function checkParts(parts: ReadonlyArray<unknown>, command: string): TypeError | undefined {
  if (!Array.isArray(parts)) return new TypeError(`request ${command}: parts must be an array of strings or Uint8Arrays`);
  for (let i = 0; i < parts.length; i++) {
    const p: unknown = parts[i];
    if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
      return new TypeError(`request ${command}: part ${i} is ${describe(p)}: message parts must be strings or Uint8Arrays`);
    }
  }
  return undefined;
}

/** Command names kept as UTF-8 by {@link commandBytes}: at most this many, each this short. */
const COMMAND_CACHE_MAX = 256;
const COMMAND_CACHE_NAME = 64;
const commandCache = new Map<string, Uint8Array>();

/**
 * A command name as the bytes of its frame, encoded once per name rather than once per message:
 * a string part costs the encoder a UTF-8 encoding on every message (and under CURVE a Buffer
 * too), bytes are copied straight into the batch. Programs send a handful of names; past
 * COMMAND_CACHE_MAX names, or for a long one, the string itself is returned. The bytes are
 * shared and never written to (the encoder and the in-process path only read or copy them).
 */
export function commandBytes(command: string): Uint8Array | string {
  let b = commandCache.get(command);
  if (b === undefined) {
    if (command.length > COMMAND_CACHE_NAME || commandCache.size >= COMMAND_CACHE_MAX) return command;
    b = utf8Bytes(command);
    commandCache.set(command, b);
  }
  return b;
}

/** One argument of `send()`: a part, a spliced range, options, or an unset optional. */
export type SendArg = Uint8Array | string | DataParts | SendOptions | undefined | null;

function isOptions(a: object): a is SendOptions {
  const proto = Object.getPrototypeOf(a) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Splits mixed arguments into frames (after `head`) and merged options. Everything is checked
 * before anything is sent: an argument that is none of the accepted kinds (a number, an array —
 * use `dataParts()` —, a class instance) throws a TypeError naming its position, so no
 * half-built message can reach the wire.
 */
export function collectArgs(head: (Uint8Array | string)[], args: readonly SendArg[]): { frames: (Uint8Array | string)[]; opts: SendOptions } {
  let opts: SendOptions | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === undefined || a === null) continue;
    if (typeof a === 'string' || a instanceof Uint8Array) head.push(a);
    else if (a instanceof DataParts) for (const p of a.parts) head.push(p);
    else if (typeof a === 'object' && isOptions(a)) opts = opts ? { ...opts, ...a } : a;
    else {
      throw new TypeError(`send: argument ${i} is ${describe(a)}: arguments must be strings, Uint8Arrays, dataParts(…), option objects or undefined`);
    }
  }
  return { frames: head, opts: opts ?? EMPTY_OPTS };
}

const EMPTY_OPTS: SendOptions = Object.freeze({});

/** The ConnectionID a send goes to: itself, or the SN form of a 32-byte pubkey; else a TypeError naming `what`. */
function targetOf(to: ConnectionID | Uint8Array, what: string): ConnectionID {
  if (to instanceof ConnectionID) return to;
  if (to instanceof Uint8Array && to.length === 32) return ConnectionID.sn(to);
  throw new TypeError(`${what} must be a ConnectionID or a 32-byte service node pubkey`);
}

/** What delivery needs from its instance. */
export interface DeliveryContext extends InstanceContext {
  readonly peers: Peers;
  readonly listeners: Listeners;
  readonly scheduler: Scheduler;
  readonly closed: () => boolean;
}

/**
 * Takes a message to its connection (C++ `send`): to a service node by pubkey (an existing
 * record, or a new connection), to a listener's peer by route, or over one of our outgoing
 * connections. A message that cannot be sent is dropped and reported through the caller's
 * `queueFailure`/`queueFull` callbacks and the log; `deliver` returns whether it was queued.
 */
export class Delivery {
  readonly #ctx: DeliveryContext;

  constructor(ctx: DeliveryContext) {
    this.#ctx = ctx;
  }

  deliver(to: ConnectionID | Uint8Array, frames: (Uint8Array | string)[], opts: SendOptions, command: string): OmqError | undefined {
    const ctx = this.#ctx;
    const cid = targetOf(to, 'send target');
    if (ctx.closed()) return this.notSent(opts, command, new OmqError(OmqErrorCode.CLOSED, 'instance is closed'));
    if (cid.isSn) return this.#toSn(cid, frames, opts, command);
    if (cid.route.length > 0) {
      const l = ctx.listeners.get(cid.id);
      if (l === undefined) return this.notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, 'listener no longer exists'));
      try {
        l.send(cid.route, frames);
        return undefined;
      } catch (err) {
        if (isZmtpError(err, ZmtpErrorCode.HOST_UNREACHABLE)) ctx.logger.debug?.(`${cid.toString()} has disconnected; dropping ${safeName(command)}`);
        return this.notSent(opts, command, err);
      }
    }
    const out = ctx.peers.get(cid.id);
    if (out === undefined) {
      ctx.throttle.warn('not-outgoing', cid.toString(), `${cid.toString()} is not a valid outgoing connection; dropping ${safeName(command)}`);
      return this.notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, 'not a valid outgoing connection'));
    }
    return this.#viaOutgoing(out, frames, opts, command);
  }

  /**
   * Resolves once the connection `to` names has nothing queued for sending (at once when it has
   * nothing queued, or is not a live connection; also when it closes). For an SN pubkey: every
   * connection to it that we know.
   */
  drained(to: ConnectionID | Uint8Array): Promise<void> {
    const { peers, listeners } = this.#ctx;
    const cid = targetOf(to, 'drained: target');
    const waits: Promise<void>[] = [];
    const viaLink = (link: unknown) => {
      if (link instanceof ZmtpDealer) waits.push(link.drained());
    };
    if (cid.isSn) {
      for (const rec of peers.records(cid.pubkey) ?? []) {
        if (rec.out) viaLink(rec.out.link);
        else if (rec.listener.router) waits.push(rec.listener.router.drained(rec.route));
      }
    } else if (cid.route.length > 0) {
      const router = listeners.get(cid.id)?.router;
      if (router) waits.push(router.drained(cid.route));
    } else {
      viaLink(peers.get(cid.id)?.link);
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Reports a message that was not sent. C++ calls queue_full for every kind of non-delivery; we
   * say which: `queueFull` only when the queue was at its limit, `queueFailure` (with the reason)
   * for everything else, and for a full queue too when no `queueFull` was given. Returns the
   * failure as an OmqError (the wire layer's error as its cause).
   */
  notSent(opts: SendOptions, command: string, cause: unknown): OmqError {
    const ctx = this.#ctx;
    if (isZmtpError(cause, ZmtpErrorCode.QUEUE_FULL)) {
      // As C++ drops at its mark, with a warning; a flood of drops is one line per interval.
      ctx.throttle.warn('queue-full', '', `send queue full; dropping ${safeName(command)}: ${cause.message}`);
    } else {
      ctx.logger.debug?.(`message ${safeName(command)} not sent: ${(cause as Error).message}`);
    }
    const err = cause instanceof OmqError ? cause : new OmqError(OmqErrorCode.SEND_FAILED, `message not sent: ${(cause as Error).message}`, { cause });
    if (isZmtpError(cause, ZmtpErrorCode.QUEUE_FULL) && opts.queueFull) ctx.scheduler.submitBatchJob(() => opts.queueFull!(), 'queue full callback');
    else if (opts.queueFailure) ctx.scheduler.submitBatchJob(() => opts.queueFailure!(err), 'send failure callback');
    return err;
  }

  #toSn(cid: ConnectionID, frames: (Uint8Array | string)[], opts: SendOptions, command: string): OmqError | undefined {
    const { peers, settings } = this.#ctx;
    // Each failed attempt drops one stale record, so this ends: at most every record, then one
    // fresh connection.
    const attempts = (peers.records(cid.pubkey)?.length ?? 0) + 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const rec = peers.snTarget(cid.pubkey, {
        hint: opts.hint,
        keepAlive: opts.keepAlive !== undefined && opts.keepAlive >= 0 ? opts.keepAlive : settings.defaultSendKeepAlive,
        ephemeral: settings.ephemeralRoutingId,
        optional: !!opts.optional,
        incoming: !!opts.incoming,
        outgoing: !!opts.outgoing,
      });
      if (rec === undefined) break;
      if (rec.out) return this.#viaOutgoing(rec.out, frames, opts, command);
      try {
        // The record may be on the built-in in-process listener (our own key in the active set).
        rec.listener.send(rec.route, frames);
        return undefined;
      } catch (err) {
        if (!isZmtpError(err, ZmtpErrorCode.HOST_UNREACHABLE)) return this.notSent(opts, command, err);
        // The SN's incoming connection is gone: forget it and route again (C++ can spin forever
        // here when the stale record is not the first one; the intent is to drop it and retry).
        peers.forgetRecord(cid.pubkey, rec);
      }
    }
    return this.notSent(opts, command, new OmqError(OmqErrorCode.SEND_FAILED, `no connection to ${cid.toString()}`));
  }

  #viaOutgoing(out: Outgoing, frames: (Uint8Array | string)[], opts: SendOptions, command: string): OmqError | undefined {
    try {
      out.link.send(frames);
      return undefined;
    } catch (err) {
      return this.notSent(opts, command, err);
    }
  }
}
