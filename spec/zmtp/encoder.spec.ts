/**
 * The frame encoder against a recording socket: exact bytes, one write per event-loop turn,
 * large frames by reference, connections sharing a slab, codec frames, backpressure, a long turn's
 * batch sent early, and the guarantee that a message reaches the socket whole or not at all.
 */
import { expect } from 'chai';
import { encodeCommand } from '../../zmtp/command.js';
import { Decoder } from '../../zmtp/decoder.js';
import { Encoder, type EncoderSocket, OutputSlab } from '../../zmtp/encoder.js';
import { frameHeader } from '../../zmtp/frame.js';
import { ManualClock } from '../../zmtp/clock.js';
import { encodePing } from '../../zmtp/heartbeat.js';
import type { FrameCodec } from '../../zmtp/mechanism.js';
import { Rng, hex } from '../helpers/random.js';

/** A socket that records what it is given, by reference. */
class Recorder implements EncoderSocket {
  readonly writes: Uint8Array[] = [];
  corks = 0;
  uncorks = 0;
  writableLength = 0;
  destroyed = false;
  /** What write() answers: false is the socket pushing back. */
  accept = true;
  write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    return this.accept;
  }
  cork(): void {
    this.corks++;
  }
  /** How many writes there had been at each uncork(): what the socket was free to send. */
  readonly uncorkedAt: number[] = [];
  uncork(): void {
    this.uncorks++;
    this.uncorkedAt.push(this.writes.length);
  }
  /** Everything written so far, as one buffer (read when the test checks, not when written). */
  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}

/** A clock that never moves, so no batch is sent early by age (one spec below moves time itself). */
const still = { now: (): number => 0 };

/** Lets the encoders' end-of-turn work run. */
const endOfTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function frame(flags: number, body: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(flags, body.length), body]);
}

/** The wire bytes of a plain multipart message. */
function wire(parts: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(parts.map((p, i) => frame(i < parts.length - 1 ? 0x01 : 0x00, typeof p === 'string' ? Buffer.from(p) : p)));
}

/** Decodes a recorded stream (no greeting) into messages of (flags, body) frames. */
function decode(bytes: Uint8Array): { flags: number; body: Buffer }[][] {
  const messages: { flags: number; body: Buffer }[][] = [];
  let current: { flags: number; body: Buffer }[] = [];
  const d = new Decoder(
    {
      onGreeting: () => {},
      onFrame: (flags, body) => {
        current.push({ flags, body: Buffer.from(body) });
        if (!(flags & 0x01)) {
          messages.push(current);
          current = [];
        }
      },
    },
    { maxMessageSize: -1 },
    false,
  );
  d.push(Buffer.from(bytes));
  expect(current, 'no unfinished message at the end').to.have.length(0);
  return messages;
}

/**
 * A toy codec in the CurveZMQ shape: wire frame = header ‖ tag byte ‖ flags ‖ body XOR 0x5a. It can
 * be told to throw on its n-th frame, and to work only by returning fresh frames.
 */
class ToyCodec implements FrameCodec {
  lastFlags = 0;
  readonly overhead = 2;
  frames = 0;
  throwOn = -1;
  encodeFrameInto?: FrameCodec['encodeFrameInto'];
  constructor(into = true) {
    if (into) this.encodeFrameInto = (flags, body, out, offset) => this.seal(flags, body, out, offset);
  }
  encodeFrame(flags: number, body: Uint8Array): Uint8Array {
    const out = Buffer.alloc(9 + this.overhead + body.length);
    return out.subarray(0, this.seal(flags, body, out, 0));
  }
  decodeFrame(): Buffer {
    throw new Error('not used');
  }
  private seal(flags: number, body: Uint8Array, out: Uint8Array, offset: number): number {
    if (++this.frames === this.throwOn) throw new Error('codec failed');
    const h = frameHeader(0, body.length + 2);
    out.set(h, offset);
    let o = offset + h.length;
    out[o++] = 0xcc;
    out[o++] = flags;
    for (let i = 0; i < body.length; i++) out[o++] = body[i]! ^ 0x5a;
    return o - offset;
  }
}

function toyWire(flags: number, body: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(0, body.length + 2), Buffer.from([0xcc, flags]), Buffer.from(body.map((b) => b ^ 0x5a))]);
}

describe('zmtp/encoder', () => {
  it('writes short and long frames with exactly the RFC 23 headers (LONG only above 255 bytes)', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    const long = Buffer.alloc(300, 7);
    e.message(['ab']);
    e.message(['a', Buffer.from('bc')]);
    e.message([Buffer.alloc(255, 1)]);
    e.message([long, '']);
    e.message(['é'.repeat(170)]); // 340 bytes of UTF-8 from a short string
    e.command(encodePing(0));
    await endOfTurn();
    expect(s.bytes).to.deep.equal(
      Buffer.concat([
        hex('00 02 6162'),
        hex('01 01 61  00 02 6263'),
        Buffer.concat([hex('00 ff'), Buffer.alloc(255, 1)]),
        Buffer.concat([hex('03 000000000000012c'), long, hex('00 00')]),
        Buffer.concat([hex('02 0000000000000154'), Buffer.from('é'.repeat(170))]),
        hex('04 07 0450494e47 0000'),
      ]),
    );
  });

  it('strings are sent as UTF-8 at every length: what is decoded equals what was sent', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    const parts = ['', 'a', 'é'.repeat(170), '𝄞'.repeat(42), '𝄞'.repeat(43), 'x'.repeat(600), 'ü'.repeat(171)];
    e.message(parts);
    await endOfTurn();
    const [m] = decode(s.bytes);
    expect(m!.map((f) => f.body.toString('utf8'))).to.deep.equal(parts);
  });

  it('batches a turn of small messages into one corked write', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    const sent: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const m = ['cmd', Buffer.from(`${i}`)];
      e.message(m);
      sent.push(wire(m));
    }
    expect(s.corks).to.equal(1);
    expect(s.writes).to.have.length(0); // nothing before the turn ends
    await endOfTurn();
    expect(s.writes).to.have.length(1);
    expect(s.uncorks).to.equal(1);
    expect(Buffer.from(s.writes[0]!)).to.deep.equal(Buffer.concat(sent));
  });

  it('batches raw bytes (the greeting) with the command that follows them in the turn: one write', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    const greeting = new Uint8Array(64).fill(0xaa);
    const ready = encodeCommand('READY', new Uint8Array(0));
    e.raw(greeting);
    e.command(ready);
    expect(s.writes).to.have.length(0);
    await endOfTurn();
    expect(s.writes).to.have.length(1);
    expect(Buffer.from(s.writes[0]!)).to.deep.equal(Buffer.concat([greeting, frame(0x04, ready)]));
  });

  it('hands the batch over every 16 KiB within a long turn, so backpressure is seen early', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    for (let i = 0; i < 100; i++) e.message([Buffer.alloc(500, i)]); // 509 bytes each (LONG header)
    // Handed over after each 33rd message, the first to bring the batch to 16 KiB.
    expect(s.writes.map((w) => w.length)).to.deep.equal([33 * 509, 33 * 509, 33 * 509]);
    await endOfTurn();
    expect(s.bytes).to.deep.equal(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(0, Buffer.alloc(500, i)))));
  });

  it('writes frames over 512 bytes by reference, never copied, in order with the batched bytes', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    const big = Buffer.alloc(513, 3);
    e.message(['before']);
    e.message(['head', big, 'tail']);
    await endOfTurn();
    expect(s.writes.some((w) => w === big)).to.equal(true);
    expect(s.bytes).to.deep.equal(Buffer.concat([wire(['before']), wire(['head', big, 'tail'])]));
  });

  it('two connections interleaving on one slab in a turn each get exactly their own bytes', async () => {
    const slab = new OutputSlab(4096); // small, so the interleaving also crosses buffers
    const [sa, sb] = [new Recorder(), new Recorder()];
    const [a, b] = [new Encoder(sa, slab, still), new Encoder(sb, slab, still)];
    const rng = new Rng(11);
    const expected: [Buffer[], Buffer[]] = [[], []];
    for (let i = 0; i < 2000; i++) {
      const who = rng.int(2);
      const m = [`m${i}`, rng.bytes(rng.int(600))];
      (who === 0 ? a : b).message(m);
      expected[who]!.push(wire(m));
    }
    await endOfTurn();
    // Checked only now, after both have written everything: no chunk was overwritten later.
    expect(sa.bytes).to.deep.equal(Buffer.concat(expected[0]));
    expect(sb.bytes).to.deep.equal(Buffer.concat(expected[1]));
    expect(sa.uncorks + sb.uncorks).to.equal(2);
  });

  it('property: what it writes decodes to what was sent (random messages, random turns)', async () => {
    const rng = new Rng(3);
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(2048), still);
    const sent: Buffer[][] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let i = rng.int(100); i > 0; i--) {
        const parts = Array.from({ length: 1 + rng.int(5) }, () => rng.bytes([0, 1, 255, 256, 512, 513, 3000][rng.int(7)]!));
        e.message(parts);
        sent.push(parts);
      }
      await endOfTurn();
    }
    expect(decode(s.bytes).map((m) => m.map((f) => f.body))).to.deep.equal(sent);
  });

  it('codec frames are sealed into the batch up to 16 KiB and written on their own above, in order', async () => {
    for (const into of [true, false]) {
      const s = new Recorder();
      const e = new Encoder(s, new OutputSlab(), still);
      const codec = new ToyCodec(into);
      e.codec = codec;
      const small = Buffer.from('hi');
      const large = Buffer.alloc(16 * 1024 + 1, 9);
      e.message([small, 'str', large]);
      e.command(encodePing(0));
      await endOfTurn();
      expect(s.bytes).to.deep.equal(
        Buffer.concat([toyWire(0x01, small), toyWire(0x01, Buffer.from('str')), toyWire(0x00, large), toyWire(0x04, encodePing(0))]),
      );
      expect(s.writes).to.have.length(into ? 3 : 4); // batch, large frame, batch (or every frame alone)
    }
  });

  it('a bad part is a TypeError naming its index, and nothing of that message is written', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    e.message(['ok']);
    expect(() => e.message(['fine', Buffer.alloc(1000), 42 as unknown as string])).to.throw(TypeError, /part 2/);
    expect(() => e.message('not an array' as unknown as string[])).to.throw(TypeError);
    e.message(['after']);
    await endOfTurn();
    expect(s.bytes).to.deep.equal(Buffer.concat([wire(['ok']), wire(['after'])]));
  });

  it('a codec that throws mid-message leaves no byte of that message on the wire, even across a slab change', async () => {
    for (const throwOn of [1, 2, 3, 50, 119]) {
      const s = new Recorder();
      const e = new Encoder(s, new OutputSlab(4096), still);
      const codec = new ToyCodec();
      e.codec = codec;
      e.message(['first']);
      // 120 frames of 300 bytes and one large one cross several 4 KiB slabs before the throw.
      const parts: Uint8Array[] = Array.from({ length: 120 }, (_, i) => Buffer.alloc(300, i));
      parts.splice(2, 0, Buffer.alloc(20_000, 1));
      codec.throwOn = 1 + throwOn;
      let thrown: unknown;
      expect(() => e.message(parts)).to.throw('codec failed');
      try {
        e.message(['last']);
      } catch (err) {
        thrown = err;
      }
      // A codec that threw cannot be trusted with the next frame: the encoder stays failed.
      expect(thrown).to.equal(e.failure);
      expect(e.failure).to.be.instanceOf(Error);
      await endOfTurn();
      expect(s.bytes).to.deep.equal(toyWire(0, Buffer.from('first')), `throw on frame ${throwOn}`);
    }
  });

  it('with a bad part the encoder is not failed: the next message goes out', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    e.codec = new ToyCodec();
    expect(() => e.message([{} as Uint8Array])).to.throw(TypeError, /part 0/);
    expect(e.failure).to.equal(null);
    e.message(['ok']);
    await endOfTurn();
    expect(s.bytes).to.deep.equal(toyWire(0, Buffer.from('ok')));
  });

  it('reports backpressure: false from socket.write() makes it blocked until drained()', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    s.accept = false;
    expect(e.message(['small'])).to.equal(true); // batched: the socket has not been asked yet
    expect(e.message([Buffer.alloc(1000)])).to.equal(false);
    expect(e.blocked).to.equal(true);
    await endOfTurn();
    s.accept = true;
    e.drained();
    expect(e.blocked).to.equal(false);
    expect(e.message([Buffer.alloc(1000)])).to.equal(true);
  });

  it('counts its unsent batch in the backlog, and writes nothing to a destroyed socket', async () => {
    const s = new Recorder();
    const e = new Encoder(s, new OutputSlab(), still);
    s.writableLength = 100;
    e.command(encodeCommand('PONG'));
    expect(e.backlog).to.equal(100 + 7);
    await endOfTurn();
    expect(e.backlog).to.equal(100);
    s.destroyed = true;
    e.message(['lost']);
    await endOfTurn();
    expect(s.writes).to.have.length(1);
  });
  it('sends a batch early, between two messages, once it is 0.1 ms old; a younger one waits for the end of the turn', async () => {
    const s = new Recorder();
    const clock = new ManualClock();
    const e = new Encoder(s, new OutputSlab(), clock);
    // Small enough that nothing is written before the batch is handed over (4 KiB in 120).
    const msg = (i: number): [string, Buffer] => [`m${i}`, Buffer.alloc(20, i)];
    const wire = (i: number): Buffer => {
      const [head, body] = msg(i);
      return Buffer.concat([frame(1, Buffer.from(head)), frame(0, body)]);
    };
    let n = 0;
    for (; n < 100; n++) e.message(msg(n));
    expect(s.uncorks, 'no time has passed: the batch waits').to.equal(0);
    clock.advance(0.05);
    for (; n < 120; n++) e.message(msg(n));
    expect(s.uncorks, 'half the age').to.equal(0);
    clock.advance(0.05);
    expect(s.writes).to.have.length(0);
    while (s.uncorks === 0 && n < 200) e.message(msg(n++));
    expect(s.uncorks, 'sent once the batch is old').to.equal(1);
    expect(n - 120, 'at most 8 messages after it aged').to.be.at.most(8);
    expect(s.corks, 'corked again for the rest of the turn').to.equal(2);
    expect(s.uncorkedAt[0], 'the batch handed over before the uncork').to.equal(1);
    const early = Buffer.concat(s.writes.slice(0, s.uncorkedAt[0]));
    // Everything before the message that noticed the age, and nothing of it.
    expect(early).to.deep.equal(Buffer.concat(Array.from({ length: n - 1 }, (_, i) => wire(i))));
    for (let i = 0; i < 5; i++) e.message(msg(n++));
    await endOfTurn();
    expect(s.uncorks).to.equal(2);
    expect(s.bytes).to.deep.equal(Buffer.concat(Array.from({ length: n }, (_, i) => wire(i))));
  });
});
