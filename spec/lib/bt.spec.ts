/**
 * bt-encoding (BitTorrent bencode, as oxen-mq `oxenmq/bt_serialize.h` implements it; now in
 * oxen-encoding): golden vectors, integer bounds, strict rejection of malformed
 * input, seeded round-trip and fuzz properties, and the streaming consumers.
 */
import { expect } from 'chai';
import {
  BT_MAX_DEPTH,
  BtDictConsumer,
  BtListConsumer,
  type BtValue,
  btBigInt,
  btBytes,
  btDecode,
  btDecodePrefix,
  btDict,
  btEncode,
  btInteger,
  btList,
  btNumber,
  btString,
} from '../../lib/oxenc/index.js';
import { OmqError, OmqErrorCode } from '../../lib/errors.js';
import { Rng } from '../helpers/random.js';
import { nodeBuf } from '../helpers/bytes.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const enc = (v: Parameters<typeof btEncode>[0]): string => nodeBuf(btEncode(v)).toString('latin1');

function expectCode(code: string, fn: () => unknown, label?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err, label).to.be.instanceOf(OmqError);
    expect((err as OmqError).code, label).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}${label === undefined ? '' : ` for ${label}`}`);
}
const expectDecodeError = (input: string | Uint8Array): void =>
  expectCode(OmqErrorCode.BT_DECODE, () => btDecode(typeof input === 'string' ? b(input) : input), JSON.stringify(String(input)));
const expectEncodeError = (fn: () => unknown): void => expectCode(OmqErrorCode.BT_ENCODE, fn);

/** Floats in [0, 1) from the tests' seeded generator, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next() / 4294967296;
}

/** Structural equality of decoded values (Maps compared in order, bytes by content). */
function btEqual(x: BtValue, y: BtValue): boolean {
  if (typeof x === 'number' || typeof x === 'bigint') return typeof x === typeof y && x === y;
  if (x instanceof Uint8Array) return y instanceof Uint8Array && Buffer.from(x).equals(Buffer.from(y));
  if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => btEqual(v, y[i]!));
  if (!(y instanceof Map) || x.size !== y.size) return false;
  const ya = [...y];
  return [...x].every(([k, v], i) => ya[i]![0] === k && btEqual(v, ya[i]![1]));
}

describe('lib/bt', () => {
  describe('encoding', () => {
    it('encodes integers, booleans, strings, lists and dicts', () => {
      expect(enc(0)).to.equal('i0e');
      expect(enc(-0)).to.equal('i0e');
      expect(enc(42)).to.equal('i42e');
      expect(enc(-42)).to.equal('i-42e');
      expect(enc(true)).to.equal('i1e');
      expect(enc(false)).to.equal('i0e');
      expect(enc('spam')).to.equal('4:spam');
      expect(enc('')).to.equal('0:');
      expect(enc('é')).to.equal('2:\xc3\xa9');
      expect(enc(Uint8Array.of(0, 255))).to.equal('2:\x00\xff');
      expect(enc([])).to.equal('le');
      expect(enc(['spam', 42])).to.equal('l4:spami42ee');
      expect(enc({})).to.equal('de');
      expect(enc({ foo: 42, bar: 'spam' })).to.equal('d3:bar4:spam3:fooi42ee');
      // OxenMQ's ZAP domain for its first listener: bt_serialize(0) (oxen-mq `oxenmq/proxy.cpp`).
      expect(enc(0)).to.equal('i0e');
    });

    it('emits dict keys sorted by raw (UTF-8) byte order', () => {
      // Plain objects enumerate integer-like keys first; the wire order must not.
      expect(enc({ b: 1, a: 2, '10': 3, '9': 4 })).to.equal('d2:10i3e1:9i4e1:ai2e1:bi1ee');
      // U+FFFF (ef bf bf) sorts before U+10000 (f0 90 80 80) in bytes, though not in UTF-16.
      const m = new Map<string, number>([
        ['\u{10000}', 1],
        ['\uffff', 2],
      ]);
      expect(enc(m)).to.equal('d3:\xef\xbf\xbfi2e4:\xf0\x90\x80\x80i1ee');
      const bytesKeys = new Map<string | Uint8Array, number>([
        [Uint8Array.of(0x62), 1],
        ['a', 2],
        [Uint8Array.of(0xff), 3],
      ]);
      expect(enc(bytesKeys)).to.equal('d1:ai2e1:bi1e1:\xffi3ee');
    });

    it('rejects duplicate keys and unsupported values', () => {
      expectEncodeError(() => btEncode(new Map<string | Uint8Array, number>([['a', 1], [Uint8Array.of(0x61), 2]])));
      expectEncodeError(() => btEncode(null as never));
      expectEncodeError(() => btEncode(undefined as never));
      expectEncodeError(() => btEncode([undefined] as never));
      expectEncodeError(() => btEncode(1.5));
      expectEncodeError(() => btEncode(Number.NaN));
      expectEncodeError(() => btEncode(Infinity));
      expectEncodeError(() => btEncode(Number.MAX_SAFE_INTEGER + 1));
      expectEncodeError(() => btEncode(new Date() as never));
      expectEncodeError(() => btEncode(new Map([[1, 1]]) as never));
      expectEncodeError(() => btEncode((() => 1) as never));
      // undefined dict values are skipped, like JSON.
      expect(enc({ a: 1, b: undefined })).to.equal('d1:ai1ee');
    });

    it('encodes int64/uint64 bounds and rejects beyond', () => {
      expect(enc(2n ** 64n - 1n)).to.equal('i18446744073709551615e');
      expect(enc(-(2n ** 63n))).to.equal('i-9223372036854775808e');
      expect(enc(Number.MAX_SAFE_INTEGER)).to.equal('i9007199254740991e');
      expectEncodeError(() => btEncode(2n ** 64n));
      expectEncodeError(() => btEncode(-(2n ** 63n) - 1n));
    });

    it('limits nesting, which also stops cycles', () => {
      let deep: unknown = 1;
      for (let i = 0; i < BT_MAX_DEPTH; i++) deep = [deep];
      expect(btEncode(deep as never).length).to.equal(3 + 2 * BT_MAX_DEPTH);
      expectEncodeError(() => btEncode([deep] as never));
      const cyclic: unknown[] = [];
      cyclic.push(cyclic);
      expectEncodeError(() => btEncode(cyclic as never));
    });
  });

  describe('decoding', () => {
    it('decodes golden values; strings are views into the input', () => {
      expect(btDecode(b('i42e'))).to.equal(42);
      expect(btDecode(b('i-42e'))).to.equal(-42);
      const input = b('l4:spami42ed3:bar4:spam3:fooi42eee');
      const v = btList(btDecode(input));
      expect(btString(v[0]!)).to.equal('spam');
      expect(btNumber(v[1]!)).to.equal(42);
      const d = btDict(v[2]!);
      expect([...d.keys()]).to.deep.equal(['bar', 'foo']);
      expect(btString(d.get('bar')!)).to.equal('spam');
      const spam = btBytes(v[0]!);
      expect(spam.buffer).to.equal(input.buffer); // a view, not a copy
      expect(spam.byteOffset).to.equal(input.byteOffset + 3);
      // Plain Uint8Array input works too.
      expect(btNumber(btDecode(Uint8Array.from(b('i7e'))))).to.equal(7);
    });

    it('returns numbers within ±(2^53−1) and bigints beyond, up to int64/uint64', () => {
      expect(btDecode(b('i9007199254740991e'))).to.equal(9007199254740991);
      expect(btDecode(b('i-9007199254740991e'))).to.equal(-9007199254740991);
      expect(btDecode(b('i9007199254740992e'))).to.equal(9007199254740992n);
      expect(btDecode(b('i-9007199254740992e'))).to.equal(-9007199254740992n);
      expect(btDecode(b('i9223372036854775807e'))).to.equal(2n ** 63n - 1n);
      expect(btDecode(b('i-9223372036854775808e'))).to.equal(-(2n ** 63n));
      expect(btDecode(b('i18446744073709551615e'))).to.equal(2n ** 64n - 1n);
      expectDecodeError('i-9223372036854775809e');
      expectDecodeError('i18446744073709551616e');
      expectDecodeError('i99999999999999999999e');
      expectDecodeError('i123456789012345678901e');
      expect(btBigInt(btDecode(b('i5e')))).to.equal(5n);
      expectCode(OmqErrorCode.BT_DECODE, () => btNumber(btDecode(b('i18446744073709551615e'))));
    });

    it('accepts leading zeros and -0 like oxenc, never yielding -0', () => {
      expect(btDecode(b('i007e'))).to.equal(7);
      expect(Object.is(btDecode(b('i-0e')), 0)).to.equal(true);
      expect(btDecode(b('i0000000000000000000000000000001e'))).to.equal(1);
      expect(btString(btDecode(b('03:abc')))).to.equal('abc');
    });

    it('rejects malformed input with ERR_OMQ_BT_DECODE', () => {
      for (const bad of [
        '',
        'i',
        'i1',
        'ie',
        'i-e',
        'i--1e',
        'i1-e',
        'i+1e',
        'i1.0e',
        'i 1e',
        'i1ei2e',
        '5:abc',
        '3abc',
        '-1:a',
        ':',
        '1:',
        '99999999999999999999:x',
        'l',
        'li1e',
        'lie',
        'd',
        'd1:a',
        'd1:ai1e',
        'di1ei1ee',
        'dlei1ee',
        'd1:ae',
        'd1:bi1e1:ai1ee',
        'd1:ai1e1:ai2ee',
        'd2:abi1e1:ai1ee',
        'e',
        'x',
        'le ',
        'dee',
        'i1e\x00',
      ]) {
        expectDecodeError(bad);
      }
    });

    it('rejects dict keys that are not valid UTF-8 (binary keys: use BtDictConsumer)', () => {
      expectDecodeError(b('d1:\xffi1ee'));
      const d = new BtDictConsumer(b('d1:\xffi1ee'));
      expect([...d.keyBytes()]).to.deep.equal([0xff]);
      expect(d.consumeInteger()).to.equal(1);
      expect(btString([...btDict(btDecode(b('d2:\xc3\xa9i1ee'))).keys()].map((k) => btEncode(k))[0]!)).to.equal('2:é');
    });

    it('limits nesting depth without recursing on hostile input', () => {
      const nest = (n: number): string => 'l'.repeat(n) + 'e'.repeat(n);
      expect(btDecode(b(nest(BT_MAX_DEPTH)))).to.be.an('array');
      expectDecodeError(nest(BT_MAX_DEPTH + 1));
      expect(btList(btDecode(b(nest(200)), { maxDepth: 200 })).length).to.equal(1);
      expectCode(OmqErrorCode.BT_DECODE, () => btDecode(b(nest(3)), { maxDepth: 2 }));
      // A million opening brackets: an error, not a stack overflow or a hang.
      expectDecodeError('l'.repeat(1_000_000));
      expectCode(OmqErrorCode.BT_DECODE, () => btDecode(b('d1:a'.repeat(100_000)), { maxDepth: 1e9 }));
    });

    it('typed accessors reject the wrong type', () => {
      const v = btDecode(b('i1e'));
      expectCode(OmqErrorCode.BT_DECODE, () => btString(v));
      expectCode(OmqErrorCode.BT_DECODE, () => btList(v));
      expectCode(OmqErrorCode.BT_DECODE, () => btDict(v));
      expectCode(OmqErrorCode.BT_DECODE, () => btInteger(btDecode(b('le'))));
      expect(btInteger(v)).to.equal(1);
    });

    it('btDecodePrefix reports where the first value ends', () => {
      const { value, end } = btDecodePrefix(b('i1e3:abc'));
      expect(value).to.equal(1);
      expect(end).to.equal(3);
    });
  });

  describe('properties (seeded)', () => {
    const ALPHABET = ['a', 'b', 'z', '0', 'é', '\u{1f600}', '\uffff', ':', 'e', 'i', '\0'];

    function randomKey(r: () => number): string {
      let s = '';
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
      return s;
    }

    function randomValue(r: () => number, depth: number): BtValue {
      const pick = r();
      if (depth > 5 || pick < 0.25) {
        const kind = Math.floor(r() * 4);
        if (kind === 0) return Math.floor((r() - 0.5) * 2 ** 20);
        if (kind === 1) {
          // Extremes and the safe/bigint boundary.
          const edges = [0, 1, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n];
          return edges[Math.floor(r() * edges.length)]!;
        }
        const len = Math.floor(r() * 12);
        const bytes = new Uint8Array(len);
        for (let i = 0; i < len; i++) bytes[i] = Math.floor(r() * 256);
        return Buffer.from(bytes);
      }
      if (pick < 0.6) {
        const n = Math.floor(r() * 5);
        return Array.from({ length: n }, () => randomValue(r, depth + 1));
      }
      const m = new Map<string, BtValue>();
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) m.set(randomKey(r), randomValue(r, depth + 1));
      // The decoder returns keys in wire order: sort by UTF-8 bytes to get the expected form.
      return new Map([...m].sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0]))));
    }

    it('decode(encode(v)) equals v and re-encodes to the same bytes (2000 values)', () => {
      for (let seed = 1; seed <= 2000; seed++) {
        const v = randomValue(prng(seed), 0);
        const bytes = btEncode(v as never);
        const back = btDecode(bytes);
        expect(btEqual(back, v), `seed ${seed}`).to.equal(true);
        expect(nodeBuf(btEncode(back as never)).equals(bytes), `seed ${seed}`).to.equal(true);
      }
    });

    function checkDecodeNeverCrashes(input: Uint8Array, label: string): boolean {
      try {
        const v = btDecode(input);
        // Whatever decodes must encode again and decode to the same value.
        expect(btEqual(btDecode(btEncode(v as never)), v), label).to.equal(true);
        return true;
      } catch (err) {
        if (!(err instanceof OmqError)) throw new Error(`${label}: non-OmqError ${String(err)}`);
        expect(err.code, label).to.equal(OmqErrorCode.BT_DECODE);
        return false;
      }
    }

    it('arbitrary bytes never crash the decoder: a value or an OmqError with code ERR_OMQ_BT_DECODE', () => {
      const r = prng(0xb7);
      // Bias towards the grammar's bytes so that inputs get past the first token.
      const GRAMMAR = b('ilde0123456789:-');
      let ok = 0;
      for (let n = 0; n < 5000; n++) {
        const len = Math.floor(r() * 24);
        const input = new Uint8Array(len);
        for (let i = 0; i < len; i++) input[i] = r() < 0.85 ? GRAMMAR[Math.floor(r() * GRAMMAR.length)]! : Math.floor(r() * 256);
        if (checkDecodeNeverCrashes(input, `random #${n}`)) ok++;
      }
      expect(ok).to.be.greaterThan(0);
    });

    it('mutations of valid encodings never crash the decoder or the consumers', () => {
      const r = prng(0x5eed);
      let ok = 0;
      let failed = 0;
      for (let n = 0; n < 3000; n++) {
        const valid = btEncode(randomValue(r, 0) as never);
        const m = Buffer.from(valid);
        let input: Uint8Array;
        const op = Math.floor(r() * 4);
        const at = Math.floor(r() * Math.max(1, m.length));
        if (op === 0 && m.length > 0) {
          m[at] = Math.floor(r() * 256);
          input = m;
        } else if (op === 1) {
          input = m.subarray(0, at); // truncation
        } else if (op === 2) {
          input = Buffer.concat([m.subarray(0, at), b('ilde:-9'.charAt(Math.floor(r() * 7))), m.subarray(at)]);
        } else {
          input = Buffer.concat([m.subarray(0, at), m.subarray(at + 1)]);
        }
        if (checkDecodeNeverCrashes(input, `mutation #${n}`)) ok++;
        else failed++;
        // Walk the same bytes with a consumer: also only OmqErrors.
        try {
          if (input[0] === 0x6c) {
            const l = new BtListConsumer(input);
            while (!l.isFinished()) l.consumeValue();
          } else if (input[0] === 0x64) {
            const d = new BtDictConsumer(input);
            while (!d.isFinished()) {
              d.keyBytes();
              d.skipValue();
            }
          }
        } catch (err) {
          if (!(err instanceof OmqError)) throw new Error(`consumer, mutation #${n}: non-OmqError ${String(err)}`);
          expect(err.code).to.equal(OmqErrorCode.BT_DECODE);
        }
      }
      expect(ok).to.be.greaterThan(0);
      expect(failed).to.be.greaterThan(0);
    });
  });

  describe('streaming consumers', () => {
    it('BtListConsumer walks a list element by element', () => {
      const l = new BtListConsumer(b('li1e3:abcl1:xed1:ai2eei-5ei18446744073709551615ee'));
      expect(l.isInteger()).to.equal(true);
      expect(l.isNegativeInteger()).to.equal(false);
      expect(l.consumeInteger()).to.equal(1);
      expect(l.isString()).to.equal(true);
      // A type mismatch throws without advancing, so another type can be tried.
      expectCode(OmqErrorCode.BT_DECODE, () => l.consumeInteger());
      expect(l.consumeStringUtf8()).to.equal('abc');
      expect(l.isList()).to.equal(true);
      const inner = l.consumeListConsumer();
      expect(inner.consumeString().toString()).to.equal('x');
      expect(inner.isFinished()).to.equal(true);
      expect(l.isDict()).to.equal(true);
      const d = l.consumeDict();
      expect(btNumber(d.get('a')!)).to.equal(2);
      expect(l.isNegativeInteger()).to.equal(true);
      expect(l.consumeNumber()).to.equal(-5);
      expectCode(OmqErrorCode.BT_DECODE, () => l.consumeNumber()); // too big: left in place
      expect(l.consumeBigInt()).to.equal(2n ** 64n - 1n);
      expect(l.isFinished()).to.equal(true);
      expect(l.isString()).to.equal(false);
      expectCode(OmqErrorCode.BT_DECODE, () => l.consumeValue());
    });

    it('BtDictConsumer reads keys in order and skipUntil finds optional keys', () => {
      const d = new BtDictConsumer(b('d1:ai1e1:bi2e1:c3:xyz1:dli1ei2ee1:fd1:xi9eee'));
      expect(d.key()).to.equal('a');
      expect(d.skipUntil('b')).to.equal(true);
      expect(d.consumeNumber()).to.equal(2);
      expect(d.key()).to.equal('c');
      expect(d.skipUntil('bb')).to.equal(false); // absent: stays on the next larger key
      expect(d.key()).to.equal('c');
      expect(d.consumeStringUtf8()).to.equal('xyz');
      expect(d.skipUntil(Buffer.from('d'))).to.equal(true);
      const l = d.consumeListConsumer();
      expect([l.consumeInteger(), l.consumeInteger(), l.isFinished()]).to.deep.equal([1, 2, true]);
      expect(d.skipUntil('e')).to.equal(false);
      expect(d.key()).to.equal('f');
      const inner = d.consumeDictConsumer();
      expect(inner.skipUntil('x')).to.equal(true);
      expect(inner.consumeInteger()).to.equal(9);
      expect(inner.isFinished()).to.equal(true);
      expect(d.isFinished()).to.equal(true);
      expect(d.skipUntil('z')).to.equal(false);
      expectCode(OmqErrorCode.BT_DECODE, () => d.key());
      expectCode(OmqErrorCode.BT_DECODE, () => d.consumeInteger());
    });

    it('BtDictConsumer rejects keys out of order when it reaches them', () => {
      const d = new BtDictConsumer(b('d1:bi1e1:ai2ee'));
      expect(d.consumeInteger()).to.equal(1);
      expectCode(OmqErrorCode.BT_DECODE, () => d.key());
      const dup = new BtDictConsumer(b('d1:ai1e1:ai2ee'));
      dup.skipValue();
      expectCode(OmqErrorCode.BT_DECODE, () => dup.isFinished());
    });

    it('consumers reject the wrong container, truncation and bad nested values', () => {
      expectCode(OmqErrorCode.BT_DECODE, () => new BtListConsumer(b('de')));
      expectCode(OmqErrorCode.BT_DECODE, () => new BtDictConsumer(b('le')));
      expectCode(OmqErrorCode.BT_DECODE, () => new BtListConsumer(b('')));
      const t = new BtListConsumer(b('li1e'));
      t.consumeInteger();
      expectCode(OmqErrorCode.BT_DECODE, () => t.isFinished());
      expectCode(OmqErrorCode.BT_DECODE, () => new BtListConsumer(b('lli1exee')).consumeListConsumer());
      expectCode(OmqErrorCode.BT_DECODE, () => new BtDictConsumer(b('d1:a')).consumeValue());
    });

    it('consumeRaw returns the encoded bytes of one value', () => {
      const l = new BtListConsumer(b('ld1:ai1eei2ee'));
      expect(nodeBuf(l.consumeRaw()).toString('latin1')).to.equal('d1:ai1ee');
      expect(nodeBuf(l.consumeRaw()).toString('latin1')).to.equal('i2e');
      expect(l.isFinished()).to.equal(true);
    });
  });
});
