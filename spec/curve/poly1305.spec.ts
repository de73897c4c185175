import { createCipheriv } from 'node:crypto';
import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import { polyFinish, polyInit, polyUpdate, polyVerify } from '../../curve/poly1305.js';
import { prng, randomBytesFrom } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/[\s:]/g, ''), 'hex'));

/** Ours: the tag of `msg` under the 32-byte one-time key `key` (via offsets, like box.ts uses it). */
function mac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  polyInit(key, 0);
  polyUpdate(msg, 0, msg.length);
  const out = new Uint8Array(16);
  polyFinish(out, 0);
  return out;
}

function leBig(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/**
 * Reference Poly1305 straight from the definition with BigInt (no limbs, no carries): the
 * independent model for keys libsodium cannot be made to use (chosen r and s).
 */
function referenceMac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n;
  const r = leBig(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBig(key.subarray(16, 32));
  let h = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    h = ((h + leBig(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  h = (h + s) & ((1n << 128n) - 1n);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++, h >>= 8n) out[i] = Number(h & 0xffn);
  return out;
}

/**
 * libsodium's own Poly1305 on a random one-time key: the original (non-IETF)
 * crypto_aead_chacha20poly1305 with an empty message authenticates `ad ‖ le64(|ad|) ‖ le64(0)`
 * under the first 32 bytes of ChaCha20(key, nonce) block 0, which node:crypto's OpenSSL ChaCha20
 * (IV = 64-bit zero counter ‖ 8-byte nonce) reproduces. Returns that key, message and tag.
 */
function sodiumMac(ad: Uint8Array, rand: (n: number) => number) {
  const k = randomBytesFrom(rand, 32);
  const n = randomBytesFrom(rand, 8);
  const { mac: tag } = sodium.crypto_aead_chacha20poly1305_encrypt_detached(new Uint8Array(0), ad, null, n, k);
  const otk = new Uint8Array(createCipheriv('chacha20', k, Buffer.concat([Buffer.alloc(8), n])).update(Buffer.alloc(32)));
  const lens = new Uint8Array(16);
  new DataView(lens.buffer).setUint32(0, ad.length, true);
  const msg = new Uint8Array(ad.length + 16);
  msg.set(ad, 0);
  msg.set(lens, ad.length);
  return { otk, msg, tag };
}

// Block and Salsa20 edges, and around the three-block path's threshold (16 blocks) and its remainders.
const EDGE_LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 271, 272, 288, 289, 304, 4096, 65536];

describe('curve/poly1305 (22-bit limbs over exact doubles)', () => {
  before(async () => {
    await sodium.ready;
  });

  it('matches the RFC 8439 §2.5.2 test vector', () => {
    const key = unhex('85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b');
    const msg = new TextEncoder().encode('Cryptographic Forum Research Group');
    expect(hex(mac(key, msg))).to.equal('a8061dc1305136c6c22b8baf0c0127a9');
  });

  it('matches the NaCl crypto_onetimeauth known answer (tests/onetimeauth.c: the 131-byte box ciphertext)', () => {
    const key = unhex('eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880');
    const msg = unhex(
      '8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972' +
        '71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da' +
        '99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5',
    );
    expect(hex(mac(key, msg))).to.equal('f3ffc7703f9400e52a7dfb4b3d3305d9');
  });

  it('matches the RFC 8439 appendix A.3 vectors built to hit the final reduction and carries', () => {
    const r1 = '01' + '00'.repeat(15);
    const r2 = '02' + '00'.repeat(15);
    const zero = '00'.repeat(16);
    const ff = 'ff'.repeat(16);
    const r10 = '0100000000000000' + '0400000000000000';
    const m10 =
      'e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000';
    const cases: [string, string, string][] = [
      [r2 + zero, ff, '03' + '00'.repeat(15)], // #5: h = p + 3 before the last reduction
      [r2 + ff, '02' + '00'.repeat(15), '03' + '00'.repeat(15)], // #6: s + h wraps mod 2^128
      [r1 + zero, ff + 'f0' + 'ff'.repeat(15) + '11' + '00'.repeat(15), '05' + '00'.repeat(15)], // #7
      [r1 + zero, ff + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), zero], // #8: h ≡ 0
      [r2 + zero, 'fd' + 'ff'.repeat(15), 'faffffffffffffffffffffffffffffff'], // #9
      [r10 + zero, m10, '14000000000000005500000000000000'], // #10
      [r10 + zero, m10.slice(0, 96), '13000000000000000000000000000000'], // #11
    ];
    for (const [key, msg, tag] of cases) {
      expect(hex(mac(unhex(key), unhex(msg))), msg).to.equal(tag);
      expect(hex(referenceMac(unhex(key), unhex(msg))), msg).to.equal(tag);
    }
  });

  it('agrees with libsodium Poly1305 on 3000 random one-time keys and messages (and so does the reference)', () => {
    const rand = prng(1305);
    for (let i = 0; i < 3000; i++) {
      const len = i < 600 ? i % 200 : rand(10) < 8 ? rand(600) : rand(5000);
      const ad = i % 7 === 0 ? new Uint8Array(len).fill(0xff) : randomBytesFrom(rand, len);
      const { otk, msg, tag } = sodiumMac(ad, rand);
      expect(hex(mac(otk, msg)), `length ${msg.length}`).to.equal(hex(tag));
      if (i < 300) expect(hex(referenceMac(otk, msg))).to.equal(hex(tag));
    }
  });

  it('is exact where the limbs are fullest: r at its clamped maximum, all-0xff blocks, every edge length', () => {
    const rand = prng(22);
    const keys = [
      new Uint8Array(32).fill(0xff), // r clamped to its maximum, s = 2^128 − 1
      Uint8Array.from([...new Uint8Array(16).fill(0xff), ...new Uint8Array(16)]),
      Uint8Array.from([...new Uint8Array(16).fill(0xff), ...randomBytesFrom(rand, 16)]),
      Uint8Array.from([...new Uint8Array(16).fill(0xaa), ...new Uint8Array(16).fill(0xff)]),
    ];
    for (const key of keys) {
      for (const len of EDGE_LENGTHS) {
        for (const fill of [0xff, 0x00, 0xfe]) {
          const msg = new Uint8Array(len).fill(fill);
          expect(hex(mac(key, msg)), `key ${hex(key.subarray(0, 2))} length ${len} fill ${fill}`).to.equal(hex(referenceMac(key, msg)));
        }
        const msg = randomBytesFrom(rand, len);
        expect(hex(mac(key, msg)), `random length ${len}`).to.equal(hex(referenceMac(key, msg)));
      }
    }
  });

  it('agrees with the reference on random chosen keys, including ones whose r limbs are near their maximum', () => {
    const rand = prng(130);
    for (let i = 0; i < 1500; i++) {
      const key = randomBytesFrom(rand, 32);
      // Set most r bits so h·r stays near the proof's bound; keep some keys fully random.
      if (i % 2 === 0) for (let j = 0; j < 16; j++) key[j]! |= rand(4) === 0 ? 0 : 0xef;
      const len = rand(4) === 0 ? rand(2000) : rand(100);
      const msg = rand(3) === 0 ? new Uint8Array(len).fill(0xff) : randomBytesFrom(rand, len);
      expect(hex(mac(key, msg)), `length ${len}`).to.equal(hex(referenceMac(key, msg)));
    }
  });

  it('reads the key and the message at offsets, and verifies in constant structure', () => {
    const rand = prng(5);
    for (let i = 0; i < 200; i++) {
      const key = randomBytesFrom(rand, 32);
      const msg = randomBytesFrom(rand, rand(300));
      const ko = rand(9);
      const mo = rand(9);
      const keyBuf = new Uint8Array(ko + 32 + 3).fill(0x5a);
      keyBuf.set(key, ko);
      const msgBuf = new Uint8Array(mo + msg.length + 3).fill(0xa5);
      msgBuf.set(msg, mo);
      const want = referenceMac(key, msg);
      polyInit(keyBuf, ko);
      polyUpdate(msgBuf, mo, msg.length);
      const out = new Uint8Array(20).fill(0x11);
      polyFinish(out, 2);
      expect(hex(out.subarray(2, 18))).to.equal(hex(want));
      expect(out[1]).to.equal(0x11);
      expect(out[18]).to.equal(0x11);
      polyInit(keyBuf, ko);
      polyUpdate(msgBuf, mo, msg.length);
      expect(polyVerify(out, 2)).to.equal(true);
      out[2 + rand(16)]! ^= 1 << rand(8);
      polyInit(keyBuf, ko);
      polyUpdate(msgBuf, mo, msg.length);
      expect(polyVerify(out, 2)).to.equal(false);
    }
  });

  it('leaves no state behind: a tag after an all-0xff 64 KiB message is the same as a fresh one', () => {
    const key = new Uint8Array(32).fill(0xff);
    mac(key, new Uint8Array(65536).fill(0xff));
    const msg = new Uint8Array(33).fill(7);
    expect(hex(mac(new Uint8Array(32).fill(1), msg))).to.equal(hex(referenceMac(new Uint8Array(32).fill(1), msg)));
  });
});
