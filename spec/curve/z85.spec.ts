import { expect } from 'chai';
import { z85Decode, z85Encode } from '../../curve/z85.js';
import { prng, randomBytesFrom } from './helpers.js';

describe('curve/z85 (RFC 32)', () => {
  it('matches the RFC 32 known-answer vector', () => {
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).to.equal('HelloWorld');
    expect(Buffer.from(z85Decode('HelloWorld')).toString('hex')).to.equal('864fd26fb559f75b');
  });

  it('encodes the extremes of a group', () => {
    expect(z85Encode(new Uint8Array(4))).to.equal('00000');
    expect(z85Encode(Uint8Array.from([255, 255, 255, 255]))).to.equal('%nSc0');
    expect(Array.from(z85Decode('%nSc0'))).to.deep.equal([255, 255, 255, 255]);
  });

  it('round-trips random data of every length multiple of 4 up to 64', () => {
    const rand = prng(85);
    for (let len = 0; len <= 64; len += 4) {
      for (let k = 0; k < 20; k++) {
        const data = randomBytesFrom(rand, len);
        const text = z85Encode(data);
        expect(text).to.have.length((len / 4) * 5);
        expect(Buffer.from(z85Decode(text)).equals(data)).to.equal(true);
      }
    }
  });

  it('rejects binary input whose length is not a multiple of 4 (RangeError)', () => {
    for (const len of [1, 2, 3, 5, 31, 33]) expect(() => z85Encode(new Uint8Array(len))).to.throw(RangeError);
  });

  it('rejects text whose length is not a multiple of 5 (RangeError)', () => {
    for (const text of ['H', 'Hell', 'HelloW', 'HelloWorl']) expect(() => z85Decode(text)).to.throw(RangeError);
  });

  it('rejects characters outside the alphabet without echoing the input', () => {
    for (const bad of ['Hell~', 'Hel o', 'Hell"', "Hell'", 'Hell,', 'Hell;', 'Hell\\', 'Hell_', 'Hell`', 'Hell|', 'Hellé', 'Hell\u0000']) {
      const err = (() => {
        try {
          z85Decode(bad);
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(err).to.be.instanceOf(RangeError);
      expect(err!.message).to.not.include('Hell');
    }
  });

  it('rejects a group above 2^32 − 1 instead of truncating it', () => {
    expect(() => z85Decode('%nSc1')).to.throw(RangeError);
    expect(() => z85Decode('#####')).to.throw(RangeError);
  });

  it('throws TypeError for wrong argument types', () => {
    expect(() => z85Encode('abcd' as unknown as Uint8Array)).to.throw(TypeError);
    expect(() => z85Decode(Buffer.from('HelloWorld') as unknown as string)).to.throw(TypeError);
  });
});
