/**
 * A peer's outgoing message queue with its limits inside, as libzmq's pipe holds its own
 * (libzmq `src/pipe.cpp`, `pipe_t::check_write`): the one place that decides whether a message
 * may still be queued. A DEALER owns one for its whole life, so that what is queued while
 * (re)connecting survives the reconnect; a ROUTER owns one per peer. The connection only drains
 * it when its socket is writable.
 *
 * Three limits, bytes first:
 *
 * - **Bytes.** What the queue holds (parts' lengths plus a per-message overhead) is bounded per
 *   queue (`maxQueuedBytes`) and, through a shared {@link ByteBudget}, per process. This is what
 *   bounds memory whatever the message size: a peer that never reads pins at most its budget.
 * - **Messages** (`sendHighWaterMark`, libzmq's ZMQ_SNDHWM, 1000 in C++ oxenmq), applied once
 *   the queue holds a message that has already waited past a flush. libzmq counts every message
 *   in its pipe, but its I/O thread drains the pipe into the kernel while the application is
 *   still sending, so its mark is reached only when the peer does not keep up. Ours are written
 *   at the end of the event-loop turn: counting a synchronous burst against the mark made 10,000
 *   requests issued in one loop fail at the 1001st although the peer was reading. A message
 *   "has waited past a flush" when the connection wrote what it could (on 'drain', or when the
 *   handshake completed) or a connection attempt failed, and the message was still left queued:
 *   {@link SendQueue.settle} marks those.
 * - **A burst** (`sendBurstLimit`, default 16,384 messages) bounds what one turn may queue while
 *   nothing waited before it. Bytes alone would let a loop that sends until refused queue
 *   466,000 64-byte messages (64 MiB) in one turn, which halved the `thr` bench through the
 *   garbage collector; 16,384 cost nothing measurable there and still let a 10,000-request
 *   burst through.
 */
import type { ByteBudget } from './budget.js';
import { checkMessage } from './encoder.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import type { ResolvedZmtpOptions } from './options.js';

/** A multipart message on the send side: frames as bytes (strings are sent as UTF-8). */
export type OutgoingMessage = ReadonlyArray<Uint8Array | string>;

/**
 * What a queued message is counted as, beyond its parts' lengths (a string part counts its
 * length): the message array and a part's object, roughly, so that a flood of empty messages is
 * bounded by the byte budget too.
 */
export const MESSAGE_OVERHEAD = 64;
export const PART_OVERHEAD = 16;

/** Bytes a message is counted as while queued. */
export function queuedSize(msg: OutgoingMessage): number {
  let n = MESSAGE_OVERHEAD;
  for (let i = 0; i < msg.length; i++) n += msg[i]!.length + PART_OVERHEAD;
  return n;
}

/** A send queue's limits from the wire layer's options. */
export function queueLimits(o: ResolvedZmtpOptions): SendQueueLimits {
  return { highWaterMark: o.sendHighWaterMark, maxBytes: o.maxQueuedBytes, burstLimit: o.sendBurstLimit, budget: o.outputBudget };
}

/** The limits of a {@link SendQueue}. */
export interface SendQueueLimits {
  /**
   * Most messages queued once any of them has waited past a flush (see {@link SendQueue.settle});
   * 0: no message accepted.
   */
  highWaterMark: number;
  /** Most messages queued in any case (a burst in one turn); default: no limit but the bytes. */
  burstLimit?: number;
  /** Most bytes this queue holds; −1 for no limit of its own. */
  maxBytes: number;
  /** The process-wide output budget this queue's bytes count against, if any. */
  budget?: ByteBudget;
}

/**
 * Messages accepted for sending and not yet handed to a socket, bounded in bytes and by a
 * high-water mark. Its own ring buffer (messages and their counted sizes side by side, so that
 * the bookkeeping costs a few nanoseconds per message, not a second queue); only push is guarded.
 */
export class SendQueue {
  readonly highWaterMark: number;
  readonly maxBytes: number;
  readonly burstLimit: number;
  readonly budget: ByteBudget | undefined;
  /** Messages at even indices, their counted sizes at the odd ones after them; a power of 2 long. */
  private ring: (OutgoingMessage | number | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;
  private held = 0;
  /** How many of the oldest queued messages have waited past a flush. */
  private settledCount = 0;

  /** @param limits a high-water mark alone (no byte limit), or all the limits. */
  constructor(limits: number | SendQueueLimits) {
    const l: SendQueueLimits = typeof limits === 'number' ? { highWaterMark: limits, maxBytes: -1 } : limits;
    this.highWaterMark = l.highWaterMark;
    this.maxBytes = l.maxBytes;
    this.burstLimit = l.burstLimit ?? Number.MAX_SAFE_INTEGER;
    this.budget = l.budget;
  }

  /** Messages queued. */
  get length(): number {
    return this.count;
  }

  /** Bytes held (as counted: {@link queuedSize}). */
  get bytes(): number {
    return this.held;
  }

  /** Messages that have waited past a flush and are still queued. */
  get settled(): number {
    return this.settledCount;
  }

  /** True when a message of `size` bytes would be refused now. */
  full(size = MESSAGE_OVERHEAD): boolean {
    return this.refusal(size) !== null;
  }

  /** Why a message of `size` bytes would be refused now, or null. */
  private refusal(size: number): string | null {
    if (this.highWaterMark === 0 || (this.settledCount > 0 && this.count >= this.highWaterMark)) return `its high-water mark (${this.highWaterMark} messages)`;
    if (this.count >= this.burstLimit) return `its burst limit (${this.burstLimit} messages)`;
    if (this.maxBytes >= 0 && this.held + size > this.maxBytes) return `its byte limit (${this.maxBytes} bytes)`;
    const b = this.budget;
    if (b !== undefined && b.limit >= 0 && b.used + size > b.limit) return `the process output budget (${b.limit} bytes)`;
    return null;
  }

  /**
   * Queues `msg`, or throws QUEUE_FULL (libzmq's EAGAIN for a non-blocking send) when the queue
   * or the process budget has no room for its bytes, or when as many messages as the high-water
   * mark have waited past a flush (a mark of 0 refuses every message); a TypeError when a part
   * is neither a string nor a Uint8Array (see {@link checkMessage}): the queue never holds a
   * message it could not write. Nothing is queued when it throws.
   */
  push(msg: OutgoingMessage): void {
    checkMessage(msg);
    const size = queuedSize(msg);
    const why = this.refusal(size);
    if (why !== null) throw queueFull(why);
    if (2 * this.count === this.ring.length) this.grow();
    const at = (this.head + 2 * this.count) & (this.ring.length - 1);
    this.ring[at] = msg;
    this.ring[at + 1] = size;
    this.count++;
    this.held += size;
    this.budget?.charge(size);
  }

  /** The oldest message, or undefined when empty. */
  peek(): OutgoingMessage | undefined {
    return this.count === 0 ? undefined : (this.ring[this.head] as OutgoingMessage);
  }

  /** Takes the oldest message out (its bytes leave the counts), or undefined when empty. */
  shift(): OutgoingMessage | undefined {
    if (this.count === 0) return undefined;
    const ring = this.ring;
    const h = this.head;
    const msg = ring[h] as OutgoingMessage;
    const size = ring[h + 1] as number;
    ring[h] = undefined;
    this.head = (h + 2) & (ring.length - 1);
    this.count--;
    this.held -= size;
    if (this.settledCount > 0) this.settledCount--;
    if (this.budget !== undefined) this.budget.release(size);
    return msg;
  }

  /** Drops everything queued and gives its bytes back. */
  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.settledCount = 0;
    const bytes = this.held;
    this.held = 0;
    if (bytes > 0) this.budget?.release(bytes);
  }

  /** Everything queued now has waited past a flush: it counts against the high-water mark. */
  settle(): void {
    this.settledCount = this.count;
  }

  private grow(): void {
    const old = this.ring;
    const next = new Array<OutgoingMessage | number | undefined>(old.length * 2);
    for (let i = 0; i < 2 * this.count; i++) next[i] = old[(this.head + i) % old.length];
    this.ring = next;
    this.head = 0;
  }
}

function queueFull(why: string): ZmtpError {
  return new ZmtpError(ZmtpErrorCode.QUEUE_FULL, `send queue is at ${why}`);
}
