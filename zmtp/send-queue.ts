/**
 * A peer's outgoing message queue with its limits inside, as libzmq's pipe holds its own
 * (libzmq `src/pipe.cpp`, `pipe_t::check_write`): the one place that decides whether a message
 * may still be queued. A DEALER owns one for its whole life, so that what is queued while
 * (re)connecting survives the reconnect; a ROUTER owns one per peer. The connection only drains
 * it when its socket is writable.
 *
 * Two limits, bytes first:
 *
 * - **Bytes.** What the queue holds (parts' lengths plus a per-message overhead) is bounded per
 *   queue (`maxQueuedBytes`) and, through a shared {@link ByteBudget}, per process. This is what
 *   bounds memory whatever the message size: a peer that never reads pins at most its budget.
 * - **Messages** (`sendHighWaterMark`, libzmq's ZMQ_SNDHWM, 1000 in C++ oxenmq), counted only
 *   against messages that have already waited past a flush. libzmq counts every message in its
 *   pipe, but its I/O thread drains the pipe into the kernel while the application is still
 *   sending, so its mark is reached only when the peer does not keep up. Ours are written at the
 *   end of the event-loop turn: counting a synchronous burst against the mark made 10,000
 *   requests issued in one loop fail at the 1001st although the peer was reading. A message
 *   "has waited past a flush" when the connection wrote what it could (on 'drain', or when the
 *   handshake completed) or a connection attempt failed, and the message was still left queued:
 *   {@link SendQueue.settle} marks those.
 */
import type { ByteBudget } from './budget.js';
import { checkMessage } from './encoder.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { RingQueue } from './queue.js';

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

/** The limits of a {@link SendQueue}. */
export interface SendQueueLimits {
  /** Most messages that may have waited past a flush (see {@link SendQueue.settle}); 0: no message accepted. */
  highWaterMark: number;
  /** Most bytes this queue holds; −1 for no limit of its own. */
  maxBytes: number;
  /** The process-wide output budget this queue's bytes count against, if any. */
  budget?: ByteBudget;
}

/**
 * Messages accepted for sending and not yet handed to a socket, bounded in bytes and by a
 * high-water mark. A ring buffer (the engine's RingQueue) whose push alone is guarded.
 */
export class SendQueue extends RingQueue<OutgoingMessage> {
  readonly highWaterMark: number;
  readonly maxBytes: number;
  readonly budget: ByteBudget | undefined;
  #bytes = 0;
  /** How many of the oldest queued messages have waited past a flush. */
  #settled = 0;
  readonly #sizes = new RingQueue<number>();

  /** @param limits a high-water mark alone (no byte limit), or all the limits. */
  constructor(limits: number | SendQueueLimits) {
    super();
    const l = typeof limits === 'number' ? { highWaterMark: limits, maxBytes: -1 } : limits;
    this.highWaterMark = l.highWaterMark;
    this.maxBytes = l.maxBytes;
    this.budget = l.budget;
  }

  /** Bytes held (as counted: {@link queuedSize}). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages that have waited past a flush and are still queued. */
  get settled(): number {
    return this.#settled;
  }

  /** True when a message of `size` bytes would be refused now (for waiting for room). */
  full(size = MESSAGE_OVERHEAD): boolean {
    return (
      this.highWaterMark === 0 ||
      this.#settled >= this.highWaterMark ||
      (this.maxBytes >= 0 && this.#bytes + size > this.maxBytes) ||
      (this.budget !== undefined && !this.budget.fits(size))
    );
  }

  /**
   * Queues `msg`, or throws QUEUE_FULL (libzmq's EAGAIN for a non-blocking send) when the queue
   * or the process budget has no room for its bytes, or when as many messages as the high-water
   * mark have waited past a flush; a TypeError when a part is neither a string nor a Uint8Array
   * (see {@link checkMessage}): the queue never holds a message it could not write. Nothing is
   * queued when it throws.
   */
  override push(msg: OutgoingMessage): void {
    checkMessage(msg);
    const size = queuedSize(msg);
    if (this.full(size)) {
      const why =
        this.highWaterMark === 0 || this.#settled >= this.highWaterMark
          ? `its high-water mark (${this.highWaterMark} messages)`
          : this.maxBytes >= 0 && this.#bytes + size > this.maxBytes
            ? `its byte limit (${this.maxBytes} bytes)`
            : `the process output budget (${this.budget!.limit} bytes)`;
      throw new ZmtpError(ZmtpErrorCode.QUEUE_FULL, `send queue is at ${why}`);
    }
    super.push(msg);
    this.#sizes.push(size);
    this.#bytes += size;
    this.budget?.charge(size);
  }

  override shift(): OutgoingMessage | undefined {
    const msg = super.shift();
    if (msg === undefined) return undefined;
    const size = this.#sizes.shift()!;
    this.#bytes -= size;
    if (this.#settled > 0) this.#settled--;
    this.budget?.release(size);
    return msg;
  }

  override clear(): void {
    super.clear();
    this.#sizes.clear();
    const bytes = this.#bytes;
    this.#bytes = 0;
    this.#settled = 0;
    if (bytes > 0) this.budget?.release(bytes);
  }

  /** Everything queued now has waited past a flush: it counts against the high-water mark. */
  settle(): void {
    this.#settled = this.length;
  }
}
