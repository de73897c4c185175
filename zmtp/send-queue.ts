/**
 * A peer's outgoing message queue with its high-water mark inside, as libzmq's pipe holds its
 * own limit (libzmq `src/pipe.cpp`, `pipe_t::check_write`): the one place that decides whether a
 * message may still be queued. A DEALER owns one for its whole life, so that what is queued
 * while (re)connecting survives the reconnect; a ROUTER owns one per peer. The connection only
 * drains it when its socket is writable.
 *
 * The limit counts messages, as libzmq's ZMQ_SNDHWM does (default 1000, which C++ oxenmq keeps).
 * Counting bytes instead, or adding a per-process budget, is a change to this class alone.
 */
import { checkMessage } from './encoder.js';
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { RingQueue } from './queue.js';

/** A multipart message on the send side: frames as bytes (strings are sent as UTF-8). */
export type OutgoingMessage = ReadonlyArray<Uint8Array | string>;

/**
 * Messages accepted for sending and not yet handed to a socket, bounded by a high-water mark. A
 * ring buffer (the engine's RingQueue) whose push alone is guarded: `length`, `shift` and
 * `clear` are the ring's own.
 */
export class SendQueue extends RingQueue<OutgoingMessage> {
  /** @param highWaterMark most messages the queue holds before {@link SendQueue.push} throws. */
  constructor(readonly highWaterMark: number) {
    super();
  }

  /**
   * Queues `msg`, or throws QUEUE_FULL (libzmq's EAGAIN for a non-blocking send) when the queue
   * is at its high-water mark, or a TypeError when a part is neither a string nor a Uint8Array
   * (see {@link checkMessage}): the queue never holds a message it could not write. Nothing is
   * queued when it throws.
   */
  override push(msg: OutgoingMessage): void {
    checkMessage(msg);
    if (this.length >= this.highWaterMark) {
      throw new ZmtpError(ZmtpErrorCode.QUEUE_FULL, `send queue is at its high-water mark (${this.highWaterMark})`);
    }
    super.push(msg);
  }
}
