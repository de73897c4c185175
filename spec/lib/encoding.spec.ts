/**
 * Key encodings (hex, base32z, base64, as oxen-mq `oxenmq/hex.h`, `base32z.h` and `base64.h` define
 * them; now in oxen-encoding): golden vectors, validation rules, round trips.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  fromBase32z,
  fromBase64,
  fromHex,
  isBase32z,
  isBase64,
  isHex,
  parsePubkey,
  toBase32z,
  toBase64,
  toHex,
} from '../../lib/oxenc/index.js';
import { OmqError, OmqErrorCode } from '../../lib/errors.js';

const PK_HEX = 'f16ba5591039f089b42a834175093094074d0d937a79e53e5ce730f946e14b88';
const PK_B32Z = '6fi4kseo88aeupbkopyzknjo1odw4dcuxjh6kx1hhhax1tzbjqry';
const PK_B64 = '8WulWRA58Im0KoNBdQkwlAdNDZN6eeU+XOcw+UbhS4g';
const PK = Buffer.from(PK_HEX, 'hex');

function expectBadEncoding(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(OmqError);
    expect((err as OmqError).code).to.equal(OmqErrorCode.BAD_ENCODING);
    return;
  }
  expect.fail('expected ERR_OMQ_BAD_ENCODING');
}

describe('lib/encoding', () => {
  it('key f16ba559…4b88 encodes to the base32z and base64 vectors', () => {
    expect(toBase32z(PK)).to.equal(PK_B32Z);
    expect(toBase64(PK, { pad: false })).to.equal(PK_B64);
    expect(toBase64(PK)).to.equal(PK_B64 + '=');
    expect(toHex(PK)).to.equal(PK_HEX);
    expect(Buffer.from(fromBase32z(PK_B32Z)).equals(PK)).to.equal(true);
    expect(Buffer.from(fromBase64(PK_B64)).equals(PK)).to.equal(true);
    expect(Buffer.from(fromBase64(PK_B64 + '=')).equals(PK)).to.equal(true);
    expect(Buffer.from(fromHex(PK_HEX.toUpperCase())).equals(PK)).to.equal(true);
  });

  describe('hex', () => {
    it('writes lower case and reads either case', () => {
      expect(toHex(Uint8Array.of(0xab, 0xcd, 0x01))).to.equal('abcd01');
      expect([...fromHex('AbCd01')]).to.deep.equal([0xab, 0xcd, 0x01]);
      expect(fromHex('').length).to.equal(0);
    });

    it('hex of a view covers only the view', () => {
      const backing = Uint8Array.of(1, 2, 3, 4, 5);
      expect(toHex(backing.subarray(1, 3))).to.equal('0203');
    });

    it('rejects odd lengths and non-hex characters', () => {
      for (const bad of ['a', 'abc', 'zz', '0g', ' 00', '00 ', '０0']) {
        expect(isHex(bad), bad).to.equal(false);
        expectBadEncoding(() => fromHex(bad));
      }
      expect(isHex('')).to.equal(true);
      expect(isHex('09afAF')).to.equal(true);
    });
  });

  describe('base32z', () => {
    it('matches hand-computed vectors, final group left-aligned', () => {
      expect(toBase32z(new Uint8Array(0))).to.equal('');
      // 0xff = 11111 111(00) → '9' then 11100 = 28 → 'h'
      expect(toBase32z(Uint8Array.of(0xff))).to.equal('9h');
      // 0x00 → 'yy'
      expect(toBase32z(Uint8Array.of(0))).to.equal('yy');
      // ff ff = 11111 11111 11111 1(0000) → '999o' (0b10000 = 16 = 'o')
      expect(toBase32z(Uint8Array.of(0xff, 0xff))).to.equal('999o');
    });

    it('decodes case-insensitively', () => {
      expect(Buffer.from(fromBase32z(PK_B32Z.toUpperCase())).equals(PK)).to.equal(true);
      expect(isBase32z('6FI4kseo')).to.equal(true);
    });

    it('rejects lengths ≡ 1, 3, 6 (mod 8) and foreign characters', () => {
      for (const len of [1, 3, 6, 9, 11, 14, 51, 53]) {
        if (len % 8 !== 1 && len % 8 !== 3 && len % 8 !== 6) continue;
        const s = 'y'.repeat(len);
        expect(isBase32z(s), `length ${len}`).to.equal(false);
        expectBadEncoding(() => fromBase32z(s));
      }
      for (const bad of ['yl', 'y0', 'yv', 'y2', 'y=', 'y ']) {
        expect(isBase32z(bad), bad).to.equal(false);
        expectBadEncoding(() => fromBase32z(bad));
      }
      for (const len of [0, 2, 4, 5, 7, 8, 52]) expect(isBase32z('y'.repeat(len)), `length ${len}`).to.equal(true);
    });

    it('ignores non-zero trailing bits as oxenc does', () => {
      // '9999' carries 4 surplus bits set; oxenc documents it decodes like '999o'.
      expect([...fromBase32z('9999')]).to.deep.equal([0xff, 0xff]);
    });

    it('round-trips random byte strings of every length 0..64', () => {
      for (let n = 0; n <= 64; n++) {
        const b = randomBytes(n);
        const s = toBase32z(b);
        expect(s.length).to.equal(Math.ceil((n * 8) / 5));
        expect(isBase32z(s)).to.equal(true);
        expect(Buffer.from(fromBase32z(s)).equals(b), `n=${n}`).to.equal(true);
      }
    });
  });

  describe('base64', () => {
    it('accepts padding only when it completes a multiple of 4', () => {
      expect([...fromBase64('YQ==')]).to.deep.equal([0x61]);
      expect([...fromBase64('YQ')]).to.deep.equal([0x61]);
      expect([...fromBase64('YWI=')]).to.deep.equal([0x61, 0x62]);
      expect([...fromBase64('YWI')]).to.deep.equal([0x61, 0x62]);
      for (const bad of ['YQ=', 'YQ===', 'YWI==', 'Y===', '=', '==', 'YQ==YQ==', 'Y=Q=']) {
        expect(isBase64(bad), bad).to.equal(false);
        expectBadEncoding(() => fromBase64(bad));
      }
    });

    it('rejects length ≡ 1 (mod 4), URL-safe characters and whitespace', () => {
      for (const bad of ['Y', 'YWJjZ', '-_-_', 'YW J', 'YWJ\n']) {
        expect(isBase64(bad), JSON.stringify(bad)).to.equal(false);
        expectBadEncoding(() => fromBase64(bad));
      }
    });

    it('ignores non-zero trailing bits as oxenc does', () => {
      expect(Buffer.from(fromBase64('YWJjZB')).toString()).to.equal('abcd');
      expect(Buffer.from(fromBase64('YWJjZP')).toString()).to.equal('abcd');
    });

    it('round-trips random byte strings padded and unpadded', () => {
      for (let n = 0; n <= 64; n++) {
        const b = randomBytes(n);
        const padded = toBase64(b);
        const bare = toBase64(b, { pad: false });
        expect(padded.length % 4).to.equal(0);
        expect(bare.includes('=')).to.equal(false);
        expect(Buffer.from(fromBase64(padded)).equals(b)).to.equal(true);
        expect(Buffer.from(fromBase64(bare)).equals(b)).to.equal(true);
      }
    });
  });

  describe('parsePubkey', () => {
    it('accepts 32 raw bytes and every key encoding', () => {
      expect(parsePubkey(PK)).to.equal(PK);
      for (const s of [PK_HEX, PK_HEX.toUpperCase(), PK_B32Z, PK_B32Z.toUpperCase(), PK_B64, PK_B64 + '=']) {
        expect(Buffer.from(parsePubkey(s)).equals(PK), s).to.equal(true);
      }
    });

    it('rejects other lengths and malformed strings', () => {
      expectBadEncoding(() => parsePubkey(new Uint8Array(31)));
      expectBadEncoding(() => parsePubkey(new Uint8Array(33)));
      expectBadEncoding(() => parsePubkey(PK_HEX.slice(0, 63)));
      expectBadEncoding(() => parsePubkey(PK_B32Z.slice(0, 51)));
      expectBadEncoding(() => parsePubkey(PK_B64.slice(0, 42)));
      expectBadEncoding(() => parsePubkey(PK_B64 + 'A'));
      expectBadEncoding(() => parsePubkey('g' + PK_HEX.slice(1)));
      expectBadEncoding(() => parsePubkey(''));
      expect(() => parsePubkey(42 as unknown as string)).to.throw(TypeError);
    });
  });
});
