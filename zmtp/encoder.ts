/**
 * The ZMTP 3.1 frame encoder of one connection (RFC 23 §"Framing", unchanged by RFC 37): every
 * byte a connection writes after its greeting goes through here — data frames, command frames,
 * and under a security mechanism the frames its codec seals (CurveZMQ MESSAGE, RFC 26).
 *
 * Output is batched per event-loop turn. The first write of a turn corks the socket; at the end of
 * the turn the batch is handed over in one write and the socket uncorked, so a burst of small
 * messages costs one syscall. A turn that runs long sends its batch early, at a message boundary
 * once the batch is BATCH_AGE_MS old, so that the peer can work on the first answers of a burst
 * while this side is still producing the rest. Frame headers, short strings (as UTF-8, no intermediate Buffer) and
 * frames up to SMALL_FRAME bytes are copied into the batch; larger frames are written by
 * reference, never copied. With a codec, frames up to CODEC_INTO_MAX bytes are sealed straight
 * into the batch. (One write() per frame header and one per body made the write path about half
 * of a 64-byte sender's time; copying a few dozen bytes costs far less than a write().)
 *
 * A message reaches the socket whole or not at all. Every part is checked before a byte is
 * written, and until the last frame is encoded nothing of the message is handed to the socket:
 * if a codec throws mid-message, the batch is rolled back to where the message began, and the
 * encoder stays failed (as a decoder does), since the codec's state can no longer be trusted.
 *
 * Batches are carved from one slab shared by every encoder, as Node's Buffer pool does: an idle
 * connection holds no output buffer at all (a private buffer per connection made every idle
 * connection several KiB larger). The slab's bookkeeping lives in this class
 * only; see {@link this.slab.tail}.
 */
import { FLAG_COMMAND, FLAG_MORE, writeFrameHeader } from './frame.js';
import type { FrameCodec } from './mechanism.js';
import type { OutgoingMessage } from './send-queue.js';
import { newBytes, utf8Bytes, utf8Length, writeUtf8 } from './bytes.js';
import { endOfTurn } from './runtime.js';
import { systemClock, type Clock } from './clock.js';

/** Frames up to this size are copied into the batch; larger ones are written by reference. */
const SMALL_FRAME = 512;
/** Strings up to this many UTF-16 units encode to at most SMALL_FRAME bytes of UTF-8. */
const SHORT_STRING = Math.floor(SMALL_FRAME / 3);
/** Codec frames up to this size are sealed straight into the batch. */
const CODEC_INTO_MAX = 16 * 1024;
/** Hand the batch to the socket once it holds this much, so backpressure is seen early. */
const BATCH_BYTES = 16 * 1024;
/**
 * A batch begun this long ago (ms) goes out at the next message boundary instead of at the end of
 * the turn. Without it two busy peers run in lockstep: each handles a whole burst in one turn and
 * answers it only when the turn ends, so neither ever works while the other does.
 */
const BATCH_AGE_MS = 0.1;
/** The clock is read once per this many messages of a turn, not for every one. */
const AGE_CHECK_EVERY = 8;
/** Size of a slab. */
const SLAB_BYTES = 64 * 1024;

/** What the encoder needs of its socket: a net.Socket, or a recorder in tests. */
export interface EncoderSocket {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

/**
 * The memory that output batches are carved from, shared by the encoders given it (by default
 * all of them share one). Its fields are read and moved by {@link Encoder} alone.
 *
 * Invariant: the free space starts at `tail.end` when there is a tail, else at `free`; exactly
 * one of the two is authoritative at any time, and only the tail writes there. Every byte before
 * that point belongs to some socket's write queue or to the tail's open segment, so none is ever
 * overwritten; a full buffer is replaced by a fresh one, never reused. An encoder is the tail
 * only within the event-loop turn it wrote in: the end of the turn releases it.
 */
export class OutputSlab {
  /** @internal The current buffer. */
  buf: Uint8Array;
  /** @internal Start of the free space while there is no tail. */
  free = 0;
  /** @internal The encoder whose open segment ends the used part of `buf`, or null. */
  tail: Encoder | null = null;

  /** @param size bytes of each buffer (a larger one is made for a reservation that needs it). */
  constructor(readonly size = SLAB_BYTES) {
    this.buf = newBytes(size);
  }
}

const sharedSlab = new OutputSlab();

/**
 * Throws a TypeError unless `msg` is an array whose parts are all strings or Uint8Arrays; the
 * message names the index of the first bad part. Called before anything of a message is queued
 * or written.
 */
export function checkMessage(msg: OutgoingMessage): void {
  if (!Array.isArray(msg)) throw new TypeError('a message must be an array of parts');
  for (let i = 0; i < msg.length; i++) {
    const p: unknown = msg[i];
    if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
      throw new TypeError(`message part ${i} must be a string or a Uint8Array`);
    }
  }
}

/** Writes one connection's frames, batched per event-loop turn, with backpressure reported. */
export class Encoder {
  /** The security mechanism's frame transform once the handshake is done (CURVE); else null. */
  codec: FrameCodec | null = null;

  /** Open segment of this turn's batch: `[start, end)` of the slab, valid while this is the tail. */
  private start = 0;
  private end = 0;
  private corked = false;
  /** When the batch now open was begun (clock ms), and messages begun since the clock was read. */
  private batchStart = 0;
  private sinceLook = 0;
  private backedUp = false;
  /** True while a message is being encoded: chunks then wait in `pending` instead of the socket. */
  private inMessage = false;
  /** Where the current message began in the open segment; −1 when it began before the segment. */
  private mark = -1;
  /** Completed chunks of the current message, handed to the socket once the message is whole. */
  private readonly pending: Uint8Array[] = [];
  /** Leading bytes of `pending[0]` that precede the message: written even if it is rolled back. */
  private keep = 0;
  private failed = false;
  private error: unknown = null;

  /**
   * @param slab where batches are carved from: the process-wide one unless a test gives its own.
   * @param clock what ages a batch (see BATCH_AGE_MS); a manual clock in tests.
   */
  constructor(
    private readonly socket: EncoderSocket,
    private readonly slab: OutputSlab = sharedSlab,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  /** What the codec threw, once it has: the encoder then refuses every further write. Else null. */
  get failure(): unknown {
    return this.error;
  }

  /** True since a socket.write() returned false, until {@link Encoder.drained}. */
  get blocked(): boolean {
    return this.backedUp;
  }

  /** Bytes written but not yet sent: the socket's buffer plus this turn's batch. */
  get backlog(): number {
    return this.socket.writableLength + (this.slab.tail === this ? this.end - this.start : 0);
  }

  /** The socket emitted 'drain': writes are welcome again. */
  drained(): void {
    this.backedUp = false;
  }

  /**
   * Encodes one multipart message (MORE on every frame but the last; through the codec when
   * there is one). Returns false when the socket has pushed back (the message is still written).
   * @throws TypeError for a bad part, before anything is written (the encoder carries on);
   *   whatever the codec throws, after rolling the batch back so that nothing of the message is
   *   written (the encoder is then failed: see {@link Encoder.failure}).
   */
  message(msg: OutgoingMessage): boolean {
    checkMessage(msg);
    return this.checked(msg);
  }

  /**
   * {@link Encoder.message} for a message that has passed {@link checkMessage} already (taken
   * from a SendQueue, which checks what it accepts): the same, without checking it again.
   */
  checked(msg: OutgoingMessage): boolean {
    this.begin();
    try {
      const last = msg.length - 1;
      for (let i = 0; i <= last; i++) this.frame(i < last ? FLAG_MORE : 0, msg[i]!);
    } catch (err) {
      this.rollback(err);
      throw err;
    }
    this.commit();
    return !this.backedUp;
  }

  /**
   * Encodes one command frame (`body` = name_len ‖ name ‖ data), behind whatever is already
   * batched (under CURVE the peer requires strictly increasing nonces) and through the codec when
   * there is one, so that a handshake step is one write with the data around it.
   */
  command(body: Uint8Array): void {
    this.begin();
    try {
      this.frame(FLAG_COMMAND, body);
    } catch (err) {
      this.rollback(err);
      throw err;
    }
    this.commit();
  }

  /**
   * Bytes that are not frames (the greeting), batched like a message: what the same turn writes
   * after them (a client's first handshake command) goes to the socket in the same write.
   */
  raw(bytes: Uint8Array): void {
    this.begin();
    const buf = this.room(bytes.length);
    buf.set(bytes, this.end);
    this.end += bytes.length;
    this.commit();
  }

  /** Hands this turn's batch to the socket now (before ending it or closing). */
  flush(): void {
    if (this.slab.tail === this) this.closeSegment();
  }

  /** @internal End of the event-loop turn: write the batch and let the socket send it all. */
  endTurn(): void {
    this.corked = false;
    this.flush();
    this.socket.uncork();
  }

  /**
   * One frame. Kept small so that V8 inlines it into the message loop: the common case (no codec,
   * a small part) is a bounds check, a header and a copy; the rest is out of line.
   */
  private frame(flags: number, p: Uint8Array | string): void {
    if (this.codec !== null || typeof p === 'string' || p.length > SMALL_FRAME) {
      this.otherFrame(flags, p);
      return;
    }
    const len = p.length;
    const buf = this.room((len > 255 ? 9 : 2) + len);
    let at = this.end;
    if (len <= 255) {
      buf[at] = flags;
      buf[at + 1] = len;
      at += 2;
    } else {
      at += writeFrameHeader(buf, at, flags, len);
    }
    buf.set(p, at);
    this.end = at + len;
  }

  /** Strings, frames over SMALL_FRAME bytes, and everything that goes through a codec. */
  private otherFrame(flags: number, p: Uint8Array | string): void {
    const codec = this.codec;
    if (typeof p === 'string' && codec === null && p.length <= SHORT_STRING) {
      const len = utf8Length(p);
      const buf = this.room((len > 255 ? 9 : 2) + len);
      this.end += writeFrameHeader(buf, this.end, flags, len);
      this.end += writeUtf8(p, buf, this.end);
      return;
    }
    const body = typeof p === 'string' ? utf8Bytes(p) : p;
    const len = body.length;
    if (codec !== null) {
      // The codec writes every byte of the wire frame anyway (a box is new bytes, not the
      // caller's): sealing it into the batch costs no allocation and no copy.
      if (codec.encodeFrameInto !== undefined && len <= CODEC_INTO_MAX) {
        const buf = this.room(9 + (codec.overhead ?? 0) + len);
        this.end += codec.encodeFrameInto(flags, body, buf, this.end);
      } else {
        this.byReference(codec.encodeFrame(flags, body));
      }
      return;
    }
    if (len <= SMALL_FRAME) {
      // A string too long for the direct UTF-8 path whose bytes are still few enough to copy.
      const buf = this.room((len > 255 ? 9 : 2) + len);
      this.end += writeFrameHeader(buf, this.end, flags, len);
      buf.set(body, this.end);
      this.end += len;
    } else {
      const buf = this.room(9);
      this.end += writeFrameHeader(buf, this.end, flags, len);
      this.byReference(body);
    }
  }

  /** The slab's buffer, with room for `n` more bytes at the end of this encoder's open segment. */
  private room(n: number): Uint8Array {
    const slab = this.slab;
    if (slab.tail !== this || this.end + n > slab.buf.length) this.reserve(n);
    return slab.buf;
  }

  /**
   * Starts a message: cork for this turn (or, if the batch is old, send it and start the next
   * one), remember where the message begins.
   */
  private begin(): void {
    if (this.failed) throw this.error;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      endOfTurn(endTurn, this);
      this.batchStart = this.clock.now();
      this.sinceLook = 0;
    } else if (++this.sinceLook === AGE_CHECK_EVERY) {
      this.sinceLook = 0;
      const now = this.clock.now();
      if (now - this.batchStart >= BATCH_AGE_MS) {
        // Between messages: what is batched is whole messages only.
        this.batchStart = now;
        this.flush();
        this.socket.uncork();
        this.socket.cork();
      }
    }
    this.inMessage = true;
    this.mark = this.slab.tail === this ? this.end : -1;
  }

  /** The message is whole: hand its completed chunks over; write the batch if it is big. */
  private commit(): void {
    this.inMessage = false;
    const pending = this.pending;
    if (pending.length > 0) {
      for (let i = 0; i < pending.length; i++) this.write(pending[i]!);
      pending.length = 0;
      this.keep = 0;
    }
    if (this.slab.tail === this && this.end - this.start >= BATCH_BYTES) this.closeSegment();
  }

  /** Forgets everything of the current message (what was batched before it stays); fails for good. */
  private rollback(err: unknown): void {
    this.failed = true;
    this.error = err;
    this.inMessage = false;
    if (this.keep > 0) this.write(this.pending[0]!.subarray(0, this.keep));
    this.keep = 0;
    this.pending.length = 0;
    if (this.slab.tail === this) {
      // Only the tail writes at the slab's end, so giving back its last bytes is safe.
      this.end = this.mark >= 0 ? this.mark : this.start;
      if (this.end === this.start) this.closeSegment();
    }
  }

  /** {@link Encoder.room}'s slow path: start a segment (and maybe a slab) with room for `n`. */
  private reserve(n: number): void {
    const tail = this.slab.tail;
    if (tail === this) {
      if (this.end + n <= this.slab.buf.length) return;
      this.closeSegment();
    } else if (tail !== null) {
      // Another connection wrote since: its segment is done, this one starts after it.
      tail.closeSegment();
    }
    const slab = this.slab;
    if (slab.free + n > slab.buf.length) {
      slab.buf = newBytes(Math.max(slab.size, n));
      slab.free = 0;
    }
    slab.tail = this;
    this.start = this.end = slab.free;
  }

  /** Ends the open segment (this encoder is the tail): releases the slab's end, emits the bytes. */
  private closeSegment(): void {
    const slab = this.slab.buf;
    const { start, end } = this;
    this.slab.free = end;
    this.slab.tail = null;
    if (!this.inMessage) {
      if (end > start) this.write(slab.subarray(start, end));
      return;
    }
    // Mid-message: the segment waits for the message to be whole. If it began before the message,
    // its first bytes are complete messages, kept even if this one is rolled back.
    if (end > start) {
      if (this.mark > start) this.keep = this.mark - start;
      this.pending.push(slab.subarray(start, end));
    }
    this.mark = -1;
  }

  /** A chunk of its own (a large frame body, a large sealed frame) after what is batched. */
  private byReference(chunk: Uint8Array): void {
    if (this.slab.tail === this) this.closeSegment();
    if (this.inMessage) this.pending.push(chunk);
    else this.write(chunk);
  }

  /** socket.write(), whose return value is our backpressure signal. */
  private write(chunk: Uint8Array): void {
    if (this.socket.destroyed) return;
    if (!this.socket.write(chunk)) this.backedUp = true;
  }
}

function endTurn(encoder: Encoder): void {
  encoder.endTurn();
}
