import { expect } from 'chai';
import { ByteBudget } from '../../zmtp/budget.js';
import { Decoder, MIN_BODY_BUFFER } from '../../zmtp/decoder.js';
import { ZmtpErrorCode } from '../../zmtp/errors.js';
import { writeFrameHeader } from '../../zmtp/frame.js';
import { GREETING_SIZE, decodeGreeting, encodeGreeting } from '../../zmtp/greeting.js';
import { MAX_METADATA_PROPERTIES, decodeMetadata, encodeMetadata } from '../../zmtp/metadata.js';
import { resolveOptions } from '../../zmtp/options.js';
import { SendQueue, queuedSize } from '../../zmtp/send-queue.js';
import { OxenMQ } from '../../lib/index.js';

function frame(flags: number, body: Buffer): Buffer {
  const h = Buffer.alloc(9);
  const n = writeFrameHeader(h, 0, flags, body.length);
  return Buffer.concat([h.subarray(0, n), body]);
}

function decoder(): { d: Decoder; frames: Buffer[] } {
  const frames: Buffer[] = [];
  const d = new Decoder({ onGreeting() {}, onFrame: (_f, body) => frames.push(Buffer.from(body)) }, { maxMessageSize: -1 }, false);
  return { d, frames };
}

describe('zmtp/budget: what the decoder holds', () => {
  it('a frame fed one byte per push holds at most twice the bytes received plus a constant, and arrives intact', () => {
    const body = Buffer.alloc(100_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const wire = frame(0, body);
    const { d, frames } = decoder();
    let worst = 0;
    for (let i = 0; i < wire.length; i++) {
      d.push(wire.subarray(i, i + 1));
      const received = i + 1;
      worst = Math.max(worst, d.bufferedBytes - 2 * received);
      expect(d.bufferedBytes).to.be.at.most(2 * received + MIN_BODY_BUFFER);
    }
    expect(worst).to.be.at.most(MIN_BODY_BUFFER);
    expect(frames).to.have.length(1);
    expect(frames[0]!.equals(body)).to.equal(true);
    expect(d.bufferedBytes).to.equal(0);
  });

  it('a frame header cut at the end of a large chunk does not keep the chunk: at most 8 bytes are held', () => {
    const { d, frames } = decoder();
    const big = Buffer.alloc(64 * 1024 - 8);
    const chunk = Buffer.concat([frame(0, big.subarray(0, big.length - 9)), Buffer.from([0x02, 0, 0, 0])]);
    d.push(chunk);
    expect(frames).to.have.length(1);
    expect(d.bufferedBytes).to.equal(4);
    d.push(Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]));
    expect(frames.map((f) => f.length)).to.deep.equal([big.length - 9, 3]);
    expect(d.bufferedBytes).to.equal(0);
  });

  it('a body in part is copied out of its chunk: a 1-byte remainder of a 64 KiB read holds a small buffer, not the read', () => {
    const { d, frames } = decoder();
    const first = frame(0, Buffer.alloc(64 * 1024 - 20));
    const second = frame(0, Buffer.from('0123456789'));
    d.push(Buffer.concat([first, second.subarray(0, 3)]));
    expect(frames).to.have.length(1);
    expect(d.bufferedBytes).to.be.at.most(MIN_BODY_BUFFER);
    d.push(second.subarray(3));
    expect(frames[1]!.toString()).to.equal('0123456789');
  });

  it('a frame that arrives in large chunks is delivered intact (the growing buffer takes whole chunks)', () => {
    const body = Buffer.alloc(1_000_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const wire = Buffer.concat([frame(1, body), frame(0, Buffer.from('end'))]);
    const { d, frames } = decoder();
    for (let at = 0; at < wire.length; at += 65_536) d.push(wire.subarray(at, at + 65_536));
    expect(frames).to.have.length(2);
    expect(frames[0]!.equals(body)).to.equal(true);
    expect(frames[1]!.toString()).to.equal('end');
  });
});

describe('zmtp/budget: greeting length and metadata cap', () => {
  it('decodeGreeting refuses every length under 64 bytes with ERR_ZMTP_GREETING_LENGTH, never a RangeError or a result', () => {
    const g = encodeGreeting('NULL');
    for (let n = 0; n < GREETING_SIZE; n++) {
      expect(() => decodeGreeting(g.subarray(0, n), 'NULL'), `${n} bytes`).to.throw().with.property('code', ZmtpErrorCode.GREETING_LENGTH);
    }
    expect(decodeGreeting(g, 'NULL').mechanism).to.equal('NULL');
  });

  it(`metadata of ${MAX_METADATA_PROPERTIES} properties decodes; one more is ERR_ZMTP_METADATA_LIMIT`, () => {
    const props = (n: number) => Array.from({ length: n }, (_, i) => [`p${i}`, Buffer.alloc(0)] as const);
    expect(decodeMetadata(encodeMetadata(props(MAX_METADATA_PROPERTIES))).size).to.equal(MAX_METADATA_PROPERTIES);
    expect(() => decodeMetadata(encodeMetadata(props(MAX_METADATA_PROPERTIES + 1)))).to.throw().with.property('code', ZmtpErrorCode.METADATA_LIMIT);
    // 130,000 empty properties (the flood that used to be held at 12.5× its size) fail the same way.
    const flood = Buffer.alloc(130_000 * 6); // name_len 1, name "a", value_len 0
    for (let i = 0; i < 130_000; i++) (flood[i * 6] = 1), (flood[i * 6 + 1] = 0x61);
    expect(() => decodeMetadata(flood)).to.throw().with.property('code', ZmtpErrorCode.METADATA_LIMIT);
  });
});

describe('zmtp/budget: send queue bytes', () => {
  it('counts the bytes it holds, refuses past maxBytes with ERR_ZMTP_QUEUE_FULL, and gives them back as messages leave', () => {
    const q = new SendQueue({ highWaterMark: 1000, maxBytes: 10_000 });
    const msg = [Buffer.alloc(1000)];
    let n = 0;
    try {
      for (;;) {
        q.push(msg);
        n++;
      }
    } catch (err) {
      expect(err).to.have.property('code', ZmtpErrorCode.QUEUE_FULL);
      expect((err as Error).message).to.match(/byte limit/);
    }
    expect(n).to.equal(Math.floor(10_000 / queuedSize(msg)));
    expect(q.bytes).to.equal(n * queuedSize(msg));
    q.shift();
    expect(q.bytes).to.equal((n - 1) * queuedSize(msg));
    q.push(msg);
    q.clear();
    expect(q.bytes).to.equal(0);
  });

  it('queues share a process budget: one queue cannot take what another holds, and room comes back when it leaves', () => {
    const budget = new ByteBudget(5000);
    const a = new SendQueue({ highWaterMark: 1000, maxBytes: -1, budget });
    const b = new SendQueue({ highWaterMark: 1000, maxBytes: -1, budget });
    const msg = [Buffer.alloc(2000)];
    a.push(msg);
    a.push(msg);
    expect(() => b.push(msg)).to.throw(/process output budget/).with.property('code', ZmtpErrorCode.QUEUE_FULL);
    let woke = false;
    budget.waitForRoom(() => (woke = true));
    a.shift();
    expect(woke).to.equal(true);
    b.push(msg);
    expect(budget.used).to.equal(2 * queuedSize(msg));
    a.clear();
    b.clear();
    expect(budget.used).to.equal(0);
  });

  it('a burst larger than the high-water mark is accepted until it has waited past a flush; then the mark applies', () => {
    const q = new SendQueue({ highWaterMark: 1000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 10_000; i++) q.push(['req', `${i}`]);
    expect(q.length).to.equal(10_000);
    for (let i = 0; i < 8_500; i++) q.shift();
    q.settle(); // the connection wrote what it could; 1,500 are left waiting
    expect(() => q.push(['one more'])).to.throw(/high-water mark/).with.property('code', ZmtpErrorCode.QUEUE_FULL);
    for (let i = 0; i < 501; i++) q.shift();
    q.push(['room again']);
    expect(q.settled).to.equal(999);
  });

  it('a burst is bounded by the burst limit too, so a loop that sends until refused does not queue 64 MiB of small messages', () => {
    const q = new SendQueue({ highWaterMark: 1000, maxBytes: 64 * 1024 * 1024, burstLimit: 16_384 });
    let n = 0;
    expect(() => {
      for (;;) (q.push(['x']), n++);
    }).to.throw(/burst limit/).with.property('code', ZmtpErrorCode.QUEUE_FULL);
    expect(n).to.equal(16_384);
  });
});

describe('zmtp/budget: options', () => {
  it('the budget options have their documented defaults and refuse what is not a byte count or a ByteBudget', () => {
    const o = resolveOptions();
    expect([o.maxQueuedBytes, o.sendHighWaterMark, o.sendBurstLimit, o.maxHandshakes, o.maxHandshakesPerAddress]).to.deep.equal([64 * 1024 * 1024, 1000, 16_384, 1024, -1]);
    expect([o.outputBudget.limit, o.inputBudget.limit]).to.deep.equal([1024 ** 3, 1024 ** 3]);
    expect(resolveOptions().outputBudget).to.equal(o.outputBudget); // one per process
    expect(() => resolveOptions({ maxQueuedBytes: -2 })).to.throw(RangeError, /maxQueuedBytes/);
    expect(() => resolveOptions({ maxHandshakes: 1.5 })).to.throw(RangeError, /maxHandshakes/);
    expect(() => resolveOptions({ outputBudget: 5 as unknown as ByteBudget })).to.throw(TypeError, /outputBudget/);
    expect(() => new ByteBudget(-3)).to.throw(RangeError);
  });

  it('OxenMQ refuses bad budget settings with ERR_OMQ_INVALID_ARGUMENT', () => {
    for (const bad of [{ maxQueuedBytes: -5 }, { sendBurstLimit: -1 }, { outputBudget: 0.5 }, { inputBudget: -2 }, { maxHandshakes: NaN }]) {
      expect(() => new OxenMQ(bad), JSON.stringify(bad)).to.throw().with.property('code', 'ERR_OMQ_INVALID_ARGUMENT');
    }
  });
});
