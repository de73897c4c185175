import { expect } from 'chai';
import { Decoder, type DecoderSink } from '../../zmtp/decoder.js';
import { ZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { frameHeader } from '../../zmtp/frame.js';
import { encodeGreeting } from '../../zmtp/greeting.js';
import { Rng, bytewise, hex, randomSplits, splitAt } from '../helpers/random.js';

interface Got {
  greeting?: Uint8Array;
  frames: { flags: number; body: Uint8Array }[];
}

function decoder(maxMessageSize = 1024 * 1024, expectGreeting = true): { d: Decoder; got: Got } {
  const got: Got = { frames: [] };
  const sink: DecoderSink = {
    onGreeting: (g) => (got.greeting = Buffer.from(g)),
    onFrame: (flags, body) => got.frames.push({ flags, body }),
  };
  return { d: new Decoder(sink, { maxMessageSize }, expectGreeting), got };
}

function frame(flags: number, body: Uint8Array): Uint8Array {
  return Buffer.concat([frameHeader(flags, body.length), body]);
}

// A stream as a libzmq peer would send it: greeting, READY, and data frames of assorted sizes.
const rng0 = new Rng(42);
const BODIES = [0, 1, 255, 256, 1000, 70_000].map((n) => rng0.bytes(n));
const STREAM = Buffer.concat([
  encodeGreeting('NULL', 33),
  hex('0429 05 5245414459 0b 536f636b65742d54797065 00000006 524f55544552 08 4964656e74697479 00000000'),
  ...BODIES.map((b, i) => frame(i < BODIES.length - 1 ? 0x01 : 0x00, b)),
]);

function check(got: Got): void {
  expect(got.greeting).to.deep.equal(STREAM.subarray(0, 64));
  expect(got.frames).to.have.length(1 + BODIES.length);
  expect(got.frames[0]!.flags).to.equal(0x04);
  BODIES.forEach((b, i) => {
    const f = got.frames[i + 1]!;
    expect(f.body).to.deep.equal(b);
    expect(f.flags & 0x01).to.equal(i < BODIES.length - 1 ? 1 : 0);
    expect(f.flags & 0x02).to.equal(b.length > 255 ? 2 : 0);
  });
}

describe('zmtp/decoder', () => {
  it('decodes a stream fed whole', () => {
    const { d, got } = decoder();
    d.push(Buffer.from(STREAM));
    check(got);
  });

  it('decodes a stream fed one byte at a time', () => {
    const { d, got } = decoder();
    for (const c of bytewise(STREAM)) d.push(c);
    check(got);
  });

  it('decodes a stream fed at random split points (200 seeds, really split)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { d, got } = decoder();
      const pieces = randomSplits(STREAM, new Rng(seed), 40);
      for (const p of pieces) d.push(p);
      check(got);
    }
  });

  it('splits exactly at every header/body boundary of a short and a long frame', () => {
    const s = Buffer.concat([frame(0x01, Buffer.from('ab')), frame(0x00, Buffer.alloc(300, 9))]);
    for (let cut = 1; cut < s.length; cut++) {
      const { d, got } = decoder(1024, false);
      for (const p of splitAt(s, [cut])) d.push(p);
      expect(got.frames.map((f) => f.body.length)).to.deep.equal([2, 300]);
    }
  });

  it('hands up views of the received chunk when a frame fits in it (zero copy)', () => {
    const { d, got } = decoder(1024, false);
    const chunk = Buffer.concat([frame(0x01, Buffer.from('hello')), frame(0, Buffer.from('world'))]);
    d.push(chunk);
    expect(got.frames[0]!.body.buffer).to.equal(chunk.buffer);
    expect(got.frames[0]!.body.byteOffset).to.equal(chunk.byteOffset + 2);
  });

  it('never clobbers views: 10 000 messages decoded from reused chunks are all intact afterwards', () => {
    const { d, got } = decoder(1024, false);
    const rng = new Rng(7);
    const expected: Uint8Array[] = [];
    // Concatenate many frames, then feed them split at arbitrary points; the decoder must neither
    // reuse the memory of a consumed chunk nor hand up a view of its own scratch space.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) {
      const b = rng.bytes(rng.int(40));
      expected.push(b);
      frames.push(frame(0, b));
    }
    const all = Buffer.concat(frames);
    for (const p of randomSplits(all, rng, 3000)) d.push(p);
    expect(got.frames).to.have.length(10_000);
    got.frames.forEach((f, i) => expect(f.body).to.deep.equal(expected[i]));
  });

  describe('protocol violations (each rejected as soon as the header is read)', () => {
    const cases: [string, Buffer, string, number?][] = [
      ['reserved flag bits', hex('08 00'), ZmtpErrorCode.RESERVED_FLAGS],
      ['reserved flag bit 7', hex('80 00'), ZmtpErrorCode.RESERVED_FLAGS],
      ['COMMAND with MORE', hex('05 00'), ZmtpErrorCode.COMMAND_MORE],
      ['a short frame over maxMessageSize', hex('00 11'), ZmtpErrorCode.FRAME_TOO_LARGE, 16],
      ['a long frame over maxMessageSize', hex('02 0000000000100001'), ZmtpErrorCode.FRAME_TOO_LARGE],
      ['a long size over 2^53 - 1', hex('02 0020000000000000'), ZmtpErrorCode.FRAME_TOO_LARGE, -1],
      ['a long size of 2^64 - 1', hex('02 ffffffffffffffff'), ZmtpErrorCode.FRAME_TOO_LARGE, -1],
    ];
    for (const [what, bytes, code, max] of cases) {
      it(`${what} → ${code}`, () => {
        const { d, got } = decoder(max ?? 1024 * 1024, false);
        expect(() => d.push(bytes)).to.throw(ZmtpError).with.property('code', code);
        expect(got.frames).to.have.length(0);
        // A failed decoder stays failed, even for valid input.
        expect(() => d.push(hex('00 00'))).to.throw(ZmtpError).with.property('code', code);
        expect(d.failure).to.have.property('code', code);
      });
    }

    it('a frame at exactly maxMessageSize is accepted', () => {
      const { d, got } = decoder(16, false);
      d.push(frame(0, Buffer.alloc(16)));
      expect(got.frames).to.have.length(1);
    });

    it('maxMessageSize -1 means no limit (beyond 2^53 - 1)', () => {
      const { d, got } = decoder(-1, false);
      d.push(frame(0, Buffer.alloc(2 * 1024 * 1024)));
      expect(got.frames[0]!.body.length).to.equal(2 * 1024 * 1024);
    });

    it('a bad greeting is rejected at its first byte', () => {
      const { d } = decoder();
      expect(() => d.push(hex('00'))).to.throw(ZmtpError).with.property('code', ZmtpErrorCode.GREETING_SIGNATURE);
    });

    it('a ZMTP 2.0 greeting is rejected with ERR_ZMTP_VERSION', () => {
      const g = encodeGreeting('NULL');
      g[10] = 2;
      const { d } = decoder();
      expect(() => d.push(g.subarray(0, 11))).to.throw(ZmtpError).with.property('code', ZmtpErrorCode.VERSION);
    });
  });

  it("lets the sink's own exception through unchanged and stays failed with it", () => {
    const bug = new TypeError('a bug in the code above the decoder');
    const seen: Uint8Array[] = [];
    const d = new Decoder(
      {
        onGreeting: () => {},
        onFrame: (_flags, body) => {
          seen.push(Buffer.from(body));
          if (seen.length === 1) throw bug;
        },
      },
      { maxMessageSize: 1024 },
      false,
    );
    const two = Buffer.concat([frame(0, Buffer.from('one')), frame(0, Buffer.from('two'))]);
    expect(() => d.push(two)).to.throw().that.equals(bug);
    expect(d.failure).to.equal(bug);
    // Nothing after the throwing frame is decoded, now or later.
    expect(() => d.push(frame(0, Buffer.from('three')))).to.throw().that.equals(bug);
    expect(seen.map((b) => b.toString())).to.deep.equal(['one']);
  });

  it('property: arbitrary bytes give frames or a ZmtpError, never another exception', () => {
    const rng = new Rng(1234);
    for (let i = 0; i < 3000; i++) {
      const expectGreeting = i % 2 === 0;
      const { d } = decoder(rng.int(2) ? 64 : 1 << 20, expectGreeting);
      let input = rng.bytes(rng.int(300));
      if (expectGreeting && rng.int(2)) input = Buffer.concat([encodeGreeting('NULL'), input]);
      try {
        for (const p of randomSplits(input, rng, 10)) d.push(p);
      } catch (err) {
        expect(err).to.be.instanceOf(ZmtpError);
      }
    }
  });
});
