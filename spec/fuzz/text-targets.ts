/**
 * Fuzz targets of the OxenMQ layer's parsers: bt-decoding (lib/oxenc, strict decoder and the
 * streaming consumers), Address strings (lib/address.ts), and the key encodings — hex, base32z,
 * base64 (lib/oxenc/encoding.ts) and Z85 (curve/z85.ts). Each accepts exactly the throws its API
 * documents: OmqError ERR_OMQ_BT_DECODE / ERR_OMQ_BAD_ADDRESS / ERR_OMQ_BAD_ENCODING, and
 * RangeError for Z85.
 */
import { z85Decode, z85Encode } from '../../curve/z85.js';
import { Address } from '../../lib/address.js';
import { OmqErrorCode, isOmqError } from '../../lib/errors.js';
import type { BtEncodable } from '../../lib/oxenc/bt.js';
import { BtDictConsumer, BtListConsumer } from '../../lib/oxenc/bt-consumer.js';
import { btDecode, btDecodePrefix } from '../../lib/oxenc/bt-decode.js';
import { btEncode } from '../../lib/oxenc/bt-encode.js';
import { fromBase32z, fromBase64, fromHex, isBase32z, isBase64, isHex, parsePubkey, toBase32z, toBase64, toHex } from '../../lib/oxenc/encoding.js';
import type { Rng } from '../helpers/random.js';
import { ascii, chance, mutate, mutateString, pick, size } from './mutate.js';
import { type FuzzTarget, check } from './runner.js';
import { nodeBuf } from '../helpers/bytes.js';

interface BytesInput {
  data: Uint8Array;
  mutated: boolean;
  maxDepth?: number;
}

function randomBt(rng: Rng, depth: number): BtEncodable {
  switch (rng.int(depth > 3 ? 3 : 5)) {
    case 0:
      return pick<BtEncodable>(rng, [0, -1, 1, rng.int(1000), -rng.int(1_000_000), 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 64n - 1n, -(2n ** 63n), 2n ** 53n]);
    case 1:
      return rng.bytes(size(rng, 64));
    case 2:
      return ascii(rng, rng.int(10));
    case 3:
      return Array.from({ length: rng.int(5) }, () => randomBt(rng, depth + 1));
    default: {
      const m = new Map<string, BtEncodable>();
      for (let i = rng.int(5); i > 0; i--) m.set(ascii(rng, rng.int(6)), randomBt(rng, depth + 1));
      return m;
    }
  }
}

/** Walks a list or dict with the streaming consumers, the way handlers read request bodies. */
function consumeAll(data: Uint8Array, maxDepth: number | undefined, depth = 0): void {
  if (depth > 8) return;
  if (data[0] === 0x6c) {
    const l = new BtListConsumer(data, { maxDepth });
    while (!l.isFinished()) walkOne(l, maxDepth, depth);
  } else if (data[0] === 0x64) {
    const d = new BtDictConsumer(data, { maxDepth });
    while (!d.isFinished()) {
      d.keyBytes();
      walkOne(d, maxDepth, depth);
    }
  }
}

function walkOne(c: BtListConsumer | BtDictConsumer, maxDepth: number | undefined, depth: number): void {
  if (c.isInteger()) c.consumeInteger();
  else if (c.isString()) c.consumeString();
  else if (c.isList() || c.isDict()) consumeAll(c.consumeRaw(), maxDepth, depth + 1);
  else c.consumeValue(); // not a value: must throw ERR_OMQ_BT_DECODE
}

/** bt-decoding: encode → decode round trip, then mutated and deeply nested inputs. */
export const btTarget: FuzzTarget<BytesInput> = {
  name: 'bt',
  description: 'btDecode/btDecodePrefix/BtListConsumer/BtDictConsumer: round trip, then mutated',
  generate(rng) {
    if (chance(rng, 0.05)) {
      const depth = 1 + rng.int(100);
      const data = Buffer.from(pick(rng, ['l', 'd1:a']).repeat(depth) + 'i1e' + 'e'.repeat(depth));
      return { data: chance(rng, 0.5) ? mutate(rng, data) : data, mutated: true, maxDepth: pick(rng, [undefined, 1, 8, 64]) };
    }
    const data = btEncode(randomBt(rng, 0));
    if (chance(rng, 0.6)) return { data: mutate(rng, data, btEncode(randomBt(rng, 0))), mutated: true };
    return { data, mutated: false };
  },
  run({ data, mutated, maxDepth }) {
    let decodeError: unknown = null;
    try {
      const v = btDecode(data, { maxDepth });
      if (!mutated) check(nodeBuf(btEncode(v)).equals(data), 'bt round trip changed the bytes');
      const p = btDecodePrefix(data, { maxDepth });
      check(p.end === data.length, 'btDecodePrefix ended elsewhere than btDecode');
    } catch (err) {
      if (!isOmqError(err, OmqErrorCode.BT_DECODE)) throw err;
      check(mutated, 'a bt-encoded value failed to decode');
      decodeError = err;
    }
    try {
      consumeAll(data, maxDepth);
    } catch (err) {
      if (!isOmqError(err, OmqErrorCode.BT_DECODE)) throw err;
      // The consumers validate lazily, but never refuse what the strict decoder accepts.
      check(decodeError !== null, 'a consumer refused a value btDecode accepts');
    }
    if (decodeError !== null) throw decodeError;
  },
  accepts: (err) => isOmqError(err, OmqErrorCode.BT_DECODE),
  show: (i) => `maxDepth=${i.maxDepth} data=${nodeBuf(i.data).toString('hex')}`,
};

interface StringInput {
  text: string;
  mutated: boolean;
}

const KEY = (rng: Rng) => rng.bytes(32);

function hostname(rng: Rng): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789-.';
  let s = '';
  for (let n = 1 + rng.int(12); n > 0; n--) s += chars[rng.int(chars.length)];
  return s;
}

/** Hosts the QR form can carry (C++ `qr_address()` upper-cases any host and checks nothing). */
const QR_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/;

function randomAddress(rng: Rng): string {
  const host = pick(rng, ['127.0.0.1', 'localhost', 'example.com', '[::1]', '[fe80::1:2]', '*', '0.0.0.0', hostname(rng)]);
  const port = pick(rng, [1, 22, 65535, 1 + rng.int(65535)]);
  const path = `/tmp/${ascii(rng, 1 + rng.int(12)).replace(/\//g, '_')}.sock`;
  const enc = pick(rng, ['base32z', 'hex', 'base64'] as const);
  switch (rng.int(6)) {
    case 0:
      return `tcp://${host}:${port}`;
    case 1:
      return `${pick(rng, ['curve', 'tcp+curve'])}://${host}:${port}/${encodeKey(KEY(rng), enc, rng)}`;
    case 2:
      return `ipc://${path}`;
    case 3:
      return `ipc+curve://${path}/${encodeKey(KEY(rng), enc, rng)}`;
    case 4:
      return Address.tcpCurve(host === '*' ? 'h' : host, port, KEY(rng)).qrAddress();
    default:
      return Address.tcp(host === '*' ? 'h' : host, port).qrAddress();
  }
}

function encodeKey(key: Uint8Array, enc: 'base32z' | 'hex' | 'base64', rng: Rng): string {
  if (enc === 'hex') return toHex(key);
  if (enc === 'base32z') return toBase32z(key);
  return toBase64(key, { pad: chance(rng, 0.5) });
}

/** Address strings: valid ones of every form, then mutated; every accepted one round-trips. */
export const addressTarget: FuzzTarget<StringInput> = {
  name: 'address',
  description: 'Address.parse: every form (tcp, curve, ipc, ipc+curve, QR), then mutated; fullAddress round trips',
  generate(rng) {
    const text = randomAddress(rng);
    return chance(rng, 0.7) ? { text: mutateString(rng, text, randomAddress(rng)), mutated: true } : { text, mutated: false };
  },
  run({ text, mutated }) {
    let a: Address;
    try {
      a = Address.parse(text);
    } catch (err) {
      if (!isOmqError(err, OmqErrorCode.BAD_ADDRESS)) throw err;
      check(mutated, 'a valid address was refused');
      throw err;
    }
    check(a.curve ? a.pubkey?.length === 32 : a.pubkey === undefined, 'a curve address without a 32-byte key, or a key without curve');
    for (const enc of ['base32z', 'hex', 'base64'] as const) {
      check(Address.parse(a.fullAddress(enc)).equals(a), `fullAddress(${enc}) does not parse back to the same address`);
    }
    a.zmqAddress();
    if (a.isTcp && QR_HOST.test(a.host)) {
      let qr: string | null = null;
      try {
        qr = a.qrAddress();
      } catch (err) {
        if (!isOmqError(err, OmqErrorCode.BAD_ADDRESS)) throw err;
      }
      if (qr !== null) {
        // QR form upper-cases the host, so compare what it keeps exactly: port and key.
        const back = Address.parse(qr);
        check(back.port === a.port && back.curve === a.curve && (!a.curve || Buffer.from(back.pubkey!).equals(Buffer.from(a.pubkey!))), 'qrAddress does not parse back to the same port and key');
      }
    }
  },
  accepts: (err) => isOmqError(err, OmqErrorCode.BAD_ADDRESS),
  show: (i) => `text(hex)=${Buffer.from(i.text, 'utf8').toString('hex')} ${JSON.stringify(i.text)}`,
};

interface Codec {
  name: string;
  /** `variant` picks among equivalent forms (base64: padded or not). */
  encode(b: Uint8Array, variant: number): string;
  decode(s: string): Uint8Array;
  /** The validity test the decoder must agree with, when the API has one. */
  valid?(s: string): boolean;
  accepts(err: unknown): boolean;
  /** Lengths the codec can encode. */
  length(rng: Rng): number;
}

const badEncoding = (err: unknown) => isOmqError(err, OmqErrorCode.BAD_ENCODING);

function encodingTarget(c: Codec): FuzzTarget<StringInput> {
  return {
    name: c.name,
    description: `${c.name}: encode → decode round trip, then mutated strings (${c.valid ? 'decoder agrees with its validity test' : 'refused with RangeError only'})`,
    generate(rng) {
      const bytes = rng.bytes(chance(rng, 0.3) ? 32 : c.length(rng));
      const text = c.encode(bytes, rng.int(2));
      return chance(rng, 0.7) ? { text: mutateString(rng, text), mutated: true } : { text, mutated: false };
    },
    run({ text, mutated }) {
      let out: Uint8Array;
      try {
        out = c.decode(text);
      } catch (err) {
        if (!c.accepts(err)) throw err;
        check(mutated, `a ${c.name} string we encoded failed to decode`);
        check(c.valid === undefined || !c.valid(text), `${c.name} refused a string its validity test accepts`);
        throw err;
      }
      check(c.valid === undefined || c.valid(text), `${c.name} decoded a string its validity test refuses`);
      // Decode → encode → decode is stable (unused trailing bits may differ, the bytes may not).
      for (const variant of [0, 1]) {
        const again = c.encode(out, variant);
        check(Buffer.from(c.decode(again)).equals(Buffer.from(out)), `${c.name} re-encoding changed the bytes`);
        if (!mutated) check(again === text || variant !== 0 || c.name === 'base64', `${c.name} re-encoding changed the text`);
      }
      if (out.length === 32 && c.name !== 'z85') check(Buffer.from(parsePubkey(text)).equals(Buffer.from(out)), 'parsePubkey disagrees with the decoder');
    },
    accepts: c.accepts,
    show: (i) => `text(hex)=${Buffer.from(i.text, 'utf8').toString('hex')} ${JSON.stringify(i.text)}`,
  };
}

/** An oxenc encoding: documented to throw ERR_OMQ_BAD_ENCODING exactly when its validity test fails. */
const oxencTarget = (name: string, encode: Codec['encode'], decode: Codec['decode'], valid: Codec['valid']) =>
  encodingTarget({ name, encode, decode, valid, accepts: badEncoding, length: (rng) => size(rng, 100) });

export const hexTarget = oxencTarget('hex', (b) => toHex(b), fromHex, isHex);
export const base32zTarget = oxencTarget('base32z', (b) => toBase32z(b), fromBase32z, isBase32z);
export const base64Target = oxencTarget('base64', (b, variant) => toBase64(b, { pad: variant === 0 }), fromBase64, isBase64);

export const z85Target = encodingTarget({
  name: 'z85',
  encode: (b) => z85Encode(b),
  decode: z85Decode,
  // Documented: RangeError for a bad length, character or group (the input is always a string).
  accepts: (err) => err instanceof RangeError,
  length: (rng) => 4 * rng.int(26),
});
