/**
 * The ZMTP 3.1 byte-stream decoder (RFC 37 §"Framing"): a pull-based state machine over a list of
 * received chunks. It hands out views of the head chunk when a whole field fits in it and copies
 * only what straddles chunks; it never concatenates the backlog. Every header field is checked
 * as soon as it is read, before waiting for the body. A decoder that has failed stays failed.
 *
 * What it holds between pushes is bounded by what was received, whatever the segmentation (a
 * peer that sends a frame one byte per TCP segment used to cost about 122 bytes of memory per
 * byte: one Buffer object per chunk). After each push, bytes that are still needed are copied
 * out of the chunks that brought them: a header in part (under 9 bytes) into a small buffer of
 * its own, a body in part into a buffer that grows by doubling up to the frame's size, and into
 * which later chunks are copied directly. So a frame in progress costs at most twice its
 * received bytes plus {@link MIN_BODY_BUFFER}, never a whole socket read's chunk, and
 * {@link Decoder.bufferedBytes} says how much that is. A frame that arrives within one chunk is
 * still handed up as a view of it, with no copy.
 *
 * Only the decoder's own checks raise ZmtpErrors here. Whatever the sink throws passes through
 * unchanged (the decoder stops there too): the sink's owner knows whether it was the peer's fault
 * or a bug, the decoder does not.
 */
import { ZmtpError, ZmtpErrorCode } from './errors.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, FLAG_RESERVED } from './frame.js';
import { GREETING_SIZE, checkGreetingPrefix } from './greeting.js';
import { EMPTY_BYTES, newBytes, readU32BE } from './bytes.js';

/** Limits the decoder enforces. */
export interface DecoderLimits {
  /** Largest accepted frame body in bytes; −1 for no limit beyond 2^53 − 1. */
  maxMessageSize: number;
}

/**
 * Receives what the decoder produces; `body` is a view valid until the callback returns. An
 * exception thrown here stops the decoder and reaches the caller of {@link Decoder.push} as is.
 */
export interface DecoderSink {
  onGreeting(greeting: Uint8Array): void;
  onFrame(flags: number, body: Uint8Array): void;
}

const enum State {
  Greeting,
  Header,
  LongSize,
  Body,
  Failed,
}

const EMPTY = EMPTY_BYTES;

/** The smallest buffer a body in part is collected in (it then doubles up to the frame's size). */
export const MIN_BODY_BUFFER = 256;

export class Decoder {
  private readonly chunks: Uint8Array[] = [];
  private head = 0; // index of the first unconsumed chunk
  private headOff = 0; // bytes of chunks[head] already consumed
  private buffered = 0; // bytes not yet consumed
  private state: State;
  private flags = 0;
  private size = 0;
  /** The body in part, once a push has ended inside it: later bytes are copied straight in. */
  private body: Uint8Array | null = null;
  /** Bytes of `body` filled. */
  private bodyHave = 0;
  private greetingBuf: Uint8Array | null = null;
  private greetingHave = 0;
  /** What stopped this decoder: its own ZmtpError, or whatever its sink threw. */
  private error: unknown = null;
  private failed = false;

  constructor(
    private readonly sink: DecoderSink,
    private readonly limits: DecoderLimits,
    expectGreeting = true,
  ) {
    this.state = expectGreeting ? State.Greeting : State.Header;
  }

  /** True while part of a frame (or of the greeting) has arrived and the rest has not. */
  get midFrame(): boolean {
    return this.buffered > 0 || this.state === State.LongSize || this.state === State.Body || (this.state === State.Greeting && this.greetingHave > 0);
  }

  /** What stopped this decoder (its own ZmtpError or the sink's exception), or null. */
  get failure(): unknown {
    return this.error;
  }

  /**
   * Bytes this decoder holds between pushes: a frame body in part (its buffer's size), a header
   * in part, a greeting in part. Bounded by twice what was received of the frame plus
   * {@link MIN_BODY_BUFFER}, and by `maxMessageSize`.
   */
  get bufferedBytes(): number {
    return (this.body !== null ? this.body.length : 0) + this.buffered + this.headOff + (this.greetingBuf !== null ? this.greetingBuf.length : 0);
  }

  /**
   * Feeds one received chunk and decodes everything it completes. Throws the ZmtpError of the
   * first violation, or the sink's exception unchanged; afterwards every call throws the same.
   */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.error;
    if (chunk.length === 0) return;
    try {
      if (this.body !== null) {
        chunk = this.fillBody(chunk);
        if (chunk.length === 0) return;
      }
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.run();
      if (this.buffered > 0) this.keepRest();
    } catch (err) {
      this.state = State.Failed;
      this.chunks.length = 0;
      this.head = 0;
      this.headOff = 0;
      this.buffered = 0;
      this.body = null;
      this.failed = true;
      this.error = err;
      throw err;
    }
  }

  /**
   * The push ended inside a field: copy what is left out of the chunks, so that they are not held
   * (a 1-byte chunk is a Buffer object of about 100 bytes; a byte left at the end of a 64 KiB read
   * would hold all of it).
   */
  private keepRest(): void {
    const n = this.buffered;
    if (this.state === State.Body) {
      const body = newBytes(Math.min(this.size, Math.max(MIN_BODY_BUFFER, 2 * n)));
      this.copyOut(body, 0, n);
      this.body = body;
      this.bodyHave = n;
      return;
    }
    // A header in part: under 9 bytes (the greeting copies into a buffer of its own as it comes).
    if (this.chunks.length - this.head === 1 && this.chunks[this.head]!.length === n) return;
    const rest = newBytes(n);
    this.copyOut(rest, 0, n);
    this.chunks.length = 0;
    this.head = 0;
    this.chunks.push(rest);
    this.buffered = n;
  }

  /** Copies the start of `chunk` into the body in part; returns what is left of the chunk. */
  private fillBody(chunk: Uint8Array): Uint8Array {
    let body = this.body!;
    const have = this.bodyHave;
    const n = Math.min(this.size - have, chunk.length);
    if (have + n > body.length) {
      const grown = newBytes(Math.min(this.size, Math.max(2 * body.length, have + n)));
      grown.set(body.subarray(0, have), 0);
      body = this.body = grown;
    }
    body.set(n === chunk.length ? chunk : chunk.subarray(0, n), have);
    this.bodyHave = have + n;
    if (this.bodyHave < this.size) return EMPTY;
    this.body = null;
    this.state = State.Header;
    this.sink.onFrame(this.flags, body);
    return n === chunk.length ? EMPTY : chunk.subarray(n);
  }

  private run(): void {
    for (;;) {
      switch (this.state) {
        case State.Greeting:
          if (!this.readGreeting()) return;
          break;
        case State.Header: {
          if (this.buffered < 2) return;
          const flags = this.byteAt(0);
          if (flags & FLAG_RESERVED) {
            throw new ZmtpError(ZmtpErrorCode.RESERVED_FLAGS, 'frame has reserved flag bits set');
          }
          if ((flags & (FLAG_COMMAND | FLAG_MORE)) === (FLAG_COMMAND | FLAG_MORE)) {
            throw new ZmtpError(ZmtpErrorCode.COMMAND_MORE, 'command frame has the MORE flag set');
          }
          this.flags = flags;
          if (flags & FLAG_LONG) {
            this.state = State.LongSize;
          } else {
            this.size = this.byteAt(1);
            this.skip(2);
            this.checkSize();
            this.state = State.Body;
          }
          break;
        }
        case State.LongSize: {
          if (this.buffered < 9) return;
          const hi = this.u32At(1);
          const lo = this.u32At(5);
          // 2^53 − 1 is the largest size a double holds exactly (hi < 2^21).
          if (hi >= 0x20_0000) {
            throw new ZmtpError(ZmtpErrorCode.FRAME_TOO_LARGE, 'frame size exceeds 2^53 - 1');
          }
          this.size = hi * 0x1_0000_0000 + lo;
          this.skip(9);
          this.checkSize();
          this.state = State.Body;
          break;
        }
        case State.Body: {
          if (this.buffered < this.size) return;
          const body = this.size === 0 ? EMPTY : this.take(this.size);
          this.state = State.Header;
          this.sink.onFrame(this.flags, body);
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  private checkSize(): void {
    const max = this.limits.maxMessageSize;
    if (max >= 0 && this.size > max) {
      throw new ZmtpError(
        ZmtpErrorCode.FRAME_TOO_LARGE,
        `frame of ${this.size} bytes exceeds maxMessageSize (${max})`,
      );
    }
  }

  private readGreeting(): boolean {
    const g = (this.greetingBuf ??= newBytes(GREETING_SIZE));
    const want = GREETING_SIZE - this.greetingHave;
    const n = Math.min(want, this.buffered);
    this.copyOut(g, this.greetingHave, n);
    this.greetingHave += n;
    checkGreetingPrefix(g, this.greetingHave);
    if (this.greetingHave < GREETING_SIZE) return false;
    this.greetingBuf = null;
    this.state = State.Header;
    this.sink.onGreeting(g);
    return true;
  }

  /** The byte at `offset` past the read position (must be buffered). */
  private byteAt(offset: number): number {
    let i = this.head;
    offset += this.headOff;
    for (;;) {
      const c = this.chunks[i]!;
      if (offset < c.length) return c[offset]!;
      offset -= c.length;
      i++;
    }
  }

  private u32At(offset: number): number {
    const c = this.chunks[this.head]!;
    const at = this.headOff + offset;
    if (at + 4 <= c.length) return readU32BE(c, at);
    return (
      ((this.byteAt(offset) << 24) |
        (this.byteAt(offset + 1) << 16) |
        (this.byteAt(offset + 2) << 8) |
        this.byteAt(offset + 3)) >>>
      0
    );
  }

  /**
   * Advances the read position by `n` buffered bytes. The head chunk is never re-sliced: an
   * offset into it moves instead, so a frame costs one Buffer view (its body), not three.
   */
  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const left = this.chunks[this.head]!.length - this.headOff;
      if (n < left) {
        this.headOff += n;
        return;
      }
      n -= left;
      this.dropHead();
    }
  }

  /** Consumes `n` buffered bytes: a view when they sit in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    const c = this.chunks[this.head]!;
    const at = this.headOff;
    if (at + n <= c.length) {
      this.buffered -= n;
      if (at + n === c.length) {
        this.dropHead();
        return at === 0 ? c : c.subarray(at);
      }
      this.headOff = at + n;
      return c.subarray(at, at + n);
    }
    const out = newBytes(n);
    this.copyOut(out, 0, n);
    return out;
  }

  private copyOut(dst: Uint8Array, at: number, n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[this.head]!;
      const left = c.length - this.headOff;
      if (n < left) {
        dst.set(c.subarray(this.headOff, this.headOff + n), at);
        this.headOff += n;
        return;
      }
      dst.set(this.headOff === 0 ? c : c.subarray(this.headOff), at);
      at += left;
      n -= left;
      this.dropHead();
    }
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.headOff = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      // Compact rarely so the array does not grow without bound under a slow trickle.
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }
}
