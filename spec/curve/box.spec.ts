import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import { isZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { beforenm, open, PrefixedBox, seal } from '../../curve/box.js';
import { MESSAGE_CLIENT_PREFIX, MESSAGE_SERVER_PREFIX } from '../../curve/nonce.js';
import { hsalsa20, keyWords, keystreamBegin, keystreamEnd, keystreamXor, readLE32 } from '../../curve/salsa20.js';
import { catchError, LOW_ORDER_POINTS, prng, randomBytesFrom } from './helpers.js';
import { counterNonce } from '../helpers/nonce.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/** A length distribution that favours small frames but reaches ~5000 bytes and block edges. */
function randomLength(rand: (n: number) => number): number {
  const r = rand(10);
  if (r < 4) return rand(130);
  if (r < 6) return 64 * (1 + rand(8)) + rand(3) - 1; // around Salsa20 block boundaries
  if (r < 8) return 16 * rand(40) + rand(2); // around Poly1305 block boundaries
  return rand(5001);
}


describe('curve/box (crypto_box, libsodium easy layout)', () => {
  before(async () => {
    await sodium.ready;
  });

  // NaCl's tests/box.c and box.out (also libsodium test/default/box.c): Alice's secret key and
  // Bob's public key, the "firstkey" beforenm value, and the 131-byte message and its box.
  const aliceSk = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPk = unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const naclNonce = unhex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');
  const naclMessage = unhex(
    'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129' +
      '6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde' +
      '048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705',
  );
  const naclBox =
    'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a' +
    'c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae' +
    '90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5';

  it('matches the NaCl known answers (beforenm "firstkey", box of the 131-byte message)', () => {
    const k = beforenm(bobPk, aliceSk);
    expect(hex(k)).to.equal('1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389');
    expect(hex(seal(k, naclNonce, naclMessage))).to.equal(naclBox);
    expect(hex(open(k, naclNonce, unhex(naclBox))!)).to.equal(hex(naclMessage));
  });

  it('beforenm matches libsodium crypto_box_beforenm on random key pairs', () => {
    for (let i = 0; i < 150; i++) {
      const a = sodium.crypto_box_keypair();
      const b = sodium.crypto_box_keypair();
      expect(hex(beforenm(b.publicKey, a.privateKey))).to.equal(hex(sodium.crypto_box_beforenm(b.publicKey, a.privateKey)));
    }
  });

  it('seal/open match libsodium crypto_box_easy / _afternm on 2000 random keys, nonces and lengths 0…5000', () => {
    const rand = prng(2600);
    const pairs = Array.from({ length: 20 }, () => {
      const a = sodium.crypto_box_keypair();
      const b = sodium.crypto_box_keypair();
      return { a, b, k: beforenm(b.publicKey, a.privateKey) };
    });
    for (let i = 0; i < 2000; i++) {
      const { a, b, k } = pairs[rand(pairs.length)]!;
      const nonce = randomBytesFrom(rand, 24);
      const msg = randomBytesFrom(rand, randomLength(rand));
      const ours = seal(k, nonce, msg);
      const theirs = i % 2 ? sodium.crypto_box_easy(msg, nonce, b.publicKey, a.privateKey) : sodium.crypto_box_easy_afternm(msg, nonce, k);
      expect(hex(ours), `length ${msg.length}`).to.equal(hex(theirs));
      expect(hex(open(k, nonce, theirs)!)).to.equal(hex(msg));
      expect(hex(sodium.crypto_box_open_easy(ours, nonce, a.publicKey, b.privateKey))).to.equal(hex(msg));
    }
  });

  it('open rejects (null) any single flipped bit, a truncated box and a wrong nonce or key', () => {
    const rand = prng(77);
    const k = beforenm(sodium.crypto_box_keypair().publicKey, sodium.crypto_box_keypair().privateKey);
    for (let i = 0; i < 300; i++) {
      const nonce = randomBytesFrom(rand, 24);
      const boxed = seal(k, nonce, randomBytesFrom(rand, rand(200)));
      const bad = Uint8Array.from(boxed);
      bad[rand(bad.length)]! ^= 1 << rand(8);
      expect(open(k, nonce, bad)).to.equal(null);
      const otherNonce = Uint8Array.from(nonce);
      otherNonce[rand(24)]! ^= 1 << rand(8);
      expect(open(k, otherNonce, boxed)).to.equal(null);
      const otherKey = Uint8Array.from(k);
      otherKey[rand(32)]! ^= 1 << rand(8);
      expect(open(otherKey, nonce, boxed)).to.equal(null);
    }
    expect(open(k, new Uint8Array(24), new Uint8Array(15))).to.equal(null);
  });

  it('seals straight into a caller buffer at an offset and touches nothing else', () => {
    const k = sodium.randombytes_buf(32);
    const nonce = sodium.randombytes_buf(24);
    const msg = sodium.randombytes_buf(100);
    const out = new Uint8Array(200).fill(0xaa);
    const ret = seal(k, nonce, msg, out, 37);
    expect(ret).to.equal(out);
    expect(hex(out.subarray(37, 37 + 116))).to.equal(hex(sodium.crypto_secretbox_easy(msg, nonce, k)));
    expect(out.subarray(0, 37).every((b) => b === 0xaa)).to.equal(true);
    expect(out.subarray(153).every((b) => b === 0xaa)).to.equal(true);
    const plain = new Uint8Array(120).fill(0x55);
    expect(open(k, nonce, out.subarray(37, 153), plain, 10)).to.equal(plain);
    expect(hex(plain.subarray(10, 110))).to.equal(hex(msg));
    expect(plain[9]).to.equal(0x55);
    expect(plain[110]).to.equal(0x55);
  });

  it('validates arguments at the boundary', () => {
    const k = new Uint8Array(32);
    expect(() => seal(new Uint8Array(31), new Uint8Array(24), new Uint8Array(1))).to.throw(RangeError);
    expect(() => seal(k, new Uint8Array(23), new Uint8Array(1))).to.throw(RangeError);
    expect(() => seal(k, new Uint8Array(24), 'abc' as unknown as Uint8Array)).to.throw(TypeError);
    expect(() => seal(k, new Uint8Array(24), new Uint8Array(10), new Uint8Array(25))).to.throw(RangeError);
    expect(() => seal(k, new Uint8Array(24), new Uint8Array(10), new Uint8Array(40), 15)).to.throw(RangeError);
    expect(() => open(k, new Uint8Array(24), new Uint8Array(40), new Uint8Array(10))).to.throw(RangeError);
    expect(() => beforenm(new Uint8Array(32), 'x' as unknown as Uint8Array)).to.throw(TypeError);
  });

  it('beforenm refuses low-order public keys with ERR_ZMTP_CURVE_KEY', () => {
    const sk = sodium.crypto_box_keypair().privateKey;
    for (const point of LOW_ORDER_POINTS) {
      expect(isZmtpError(catchError(() => beforenm(unhex(point), sk)), ZmtpErrorCode.CURVE_KEY)).to.equal(true);
    }
  });

  describe('PrefixedBox (the MESSAGE fast path)', () => {
    it('sealFlagged/openFlagged match libsodium with the CurveZMQ MESSAGE nonce (1000 random frames)', () => {
      const rand = prng(1606);
      for (let i = 0; i < 1000; i++) {
        const k = randomBytesFrom(rand, 32);
        const prefix = i % 2 ? MESSAGE_CLIENT_PREFIX : MESSAGE_SERVER_PREFIX;
        const box = new PrefixedBox(k, prefix);
        // counters across the whole u64 range, including words above 2^31
        const hi = i % 3 === 0 ? 0 : rand(0x7fffffff) * 2 + rand(2);
        const lo = rand(0x7fffffff) * 2 + rand(2);
        const flags = rand(4);
        const payload = randomBytesFrom(rand, randomLength(rand));
        const off = rand(20);
        const out = new Uint8Array(off + 17 + payload.length);
        box.sealFlagged(hi, lo, flags, payload, out, off);
        const nonce = counterNonce(prefix, hi, lo);
        const plain = Buffer.concat([Buffer.from([flags]), payload]);
        expect(hex(out.subarray(off))).to.equal(hex(sodium.crypto_box_easy_afternm(plain, nonce, k)));
        const theirs = sodium.crypto_secretbox_easy(plain, nonce, k);
        const dst = new Uint8Array(payload.length);
        expect(box.openFlagged(hi, lo, theirs, 0, theirs.length - 16, dst)).to.equal(flags);
        expect(Buffer.from(dst).equals(payload)).to.equal(true);
      }
    });

    it('openFlagged returns -1 and writes nothing for a tampered box or a wrong counter', () => {
      const rand = prng(4);
      const k = randomBytesFrom(rand, 32);
      const box = new PrefixedBox(k, MESSAGE_CLIENT_PREFIX);
      for (let i = 0; i < 200; i++) {
        const payload = randomBytesFrom(rand, 1 + rand(100));
        const out = new Uint8Array(17 + payload.length);
        box.sealFlagged(0, i, 1, payload, out, 0);
        const dst = new Uint8Array(payload.length).fill(0xee);
        expect(box.openFlagged(0, i + 1, out, 0, out.length - 16, dst)).to.equal(-1);
        out[rand(out.length)]! ^= 1 << rand(8);
        expect(box.openFlagged(0, i, out, 0, out.length - 16, dst)).to.equal(-1);
        expect(dst.every((b) => b === 0xee)).to.equal(true);
      }
    });

    it('seal/open with a counter match libsodium too (generic layout)', () => {
      const rand = prng(9);
      for (let i = 0; i < 200; i++) {
        const k = randomBytesFrom(rand, 32);
        const box = new PrefixedBox(k, MESSAGE_SERVER_PREFIX);
        const msg = randomBytesFrom(rand, randomLength(rand));
        const out = new Uint8Array(16 + msg.length);
        box.seal(7, 0x9abcdef0, msg, 0, msg.length, out, 0);
        const nonce = counterNonce(MESSAGE_SERVER_PREFIX, 7, 0x9abcdef0);
        expect(hex(out)).to.equal(hex(sodium.crypto_secretbox_easy(msg, nonce, k)));
        const back = new Uint8Array(msg.length);
        expect(box.open(7, 0x9abcdef0, out, 0, msg.length, back, 0)).to.equal(true);
        expect(Buffer.from(back).equals(msg)).to.equal(true);
      }
    });

    it('is wiped by destroy (its boxes no longer open)', () => {
      const k = new Uint8Array(32).fill(3);
      const box = new PrefixedBox(k, MESSAGE_CLIENT_PREFIX);
      const out = new Uint8Array(17 + 5);
      box.sealFlagged(0, 1, 0, new Uint8Array(5), out, 0);
      box.destroy();
      expect(box.openFlagged(0, 1, out, 0, 6, new Uint8Array(5))).to.equal(-1);
    });
  });
  describe('keystreamXor (whole blocks word-wise, partial blocks bytewise)', () => {
    /** XSalsa20 keystream bytes 32 … 32 + len from libsodium: a secretbox of zeros is MAC ‖ keystream. */
    const sodiumStream = (k: Uint8Array, nonce: Uint8Array, len: number) => sodium.crypto_secretbox_easy(new Uint8Array(len), nonce, k).subarray(16);

    function begin(k: Uint8Array, nonce: Uint8Array): void {
      const sub = hsalsa20(keyWords(k, 0, new Uint32Array(8)), nonce, 0, new Uint32Array(8));
      keystreamBegin(sub, readLE32(nonce, 16), readLE32(nonce, 20));
    }

    it('matches libsodium at any keystream position, unaligned offsets and lengths across blocks', () => {
      const rand = prng(6420);
      for (let i = 0; i < 1500; i++) {
        const k = randomBytesFrom(rand, 32);
        const nonce = randomBytesFrom(rand, 24);
        const pos = 32 + (rand(3) === 0 ? 64 * rand(6) + 32 * rand(2) : rand(400)); // often block-aligned
        const len = rand(4) === 0 ? rand(5000) : Math.max(0, 64 * rand(8) + rand(3) - 1); // around whole blocks
        const stream = sodiumStream(k, nonce, pos - 32 + len);
        // Views at odd byte offsets of a shared buffer, so neither side is 4-aligned in memory.
        const srcOff = rand(7), dstOff = rand(7);
        const srcBuf = randomBytesFrom(rand, srcOff + len + 9 + rand(5));
        const src = new Uint8Array(srcBuf.buffer, srcBuf.byteOffset + 1 + rand(3), srcBuf.length - 4);
        const msg = Uint8Array.from(src.subarray(srcOff, srcOff + len));
        const dst = new Uint8Array(new ArrayBuffer(dstOff + len + 11), 1 + rand(3), dstOff + len + 6).fill(0xc3);
        begin(k, nonce);
        keystreamXor(src, srcOff, dst, dstOff, len, pos);
        keystreamEnd();
        const want = msg.map((b, j) => b ^ stream[pos - 32 + j]!);
        expect(hex(dst.subarray(dstOff, dstOff + len)), `pos ${pos} len ${len}`).to.equal(hex(want));
        expect(dst.subarray(0, dstOff).every((b) => b === 0xc3)).to.equal(true);
        expect(dst.subarray(dstOff + len).every((b) => b === 0xc3)).to.equal(true);
        expect(hex(src.subarray(srcOff, srcOff + len))).to.equal(hex(msg)); // src untouched
      }
    });

    it('works in place (src and dst the same bytes), and across several calls in one stream', () => {
      const rand = prng(17);
      for (let i = 0; i < 400; i++) {
        const k = randomBytesFrom(rand, 32);
        const nonce = randomBytesFrom(rand, 24);
        const len = rand(3000);
        const stream = sodiumStream(k, nonce, len);
        const buf = randomBytesFrom(rand, len + 10);
        const off = rand(10);
        const msg = Uint8Array.from(buf.subarray(off, off + len));
        begin(k, nonce);
        // Split into consecutive pieces of random sizes (aligned and unaligned in the stream).
        let done = 0;
        while (done < len) {
          const n = Math.min(len - done, rand(3) === 0 ? 64 * (1 + rand(4)) : rand(200));
          keystreamXor(buf, off + done, buf, off + done, n, 32 + done);
          done += n;
        }
        keystreamEnd();
        expect(hex(buf.subarray(off, off + len)), `len ${len}`).to.equal(hex(msg.map((b, j) => b ^ stream[j]!)));
      }
    });

    it('PrefixedBox seals in place and from unaligned payload views, like libsodium', () => {
      const rand = prng(333);
      for (const len of [0, 1, 30, 31, 32, 63, 64, 65, 95, 96, 97, 127, 128, 4095, 4096, 4097, 65536]) {
        const k = randomBytesFrom(rand, 32);
        const box = new PrefixedBox(k, MESSAGE_CLIENT_PREFIX);
        const msg = randomBytesFrom(rand, len);
        const nonce = counterNonce(MESSAGE_CLIENT_PREFIX, 1, 2);
        const want = hex(sodium.crypto_secretbox_easy(msg, nonce, k));
        // In place: the message already sits where the ciphertext goes.
        const off = rand(5);
        const buf = new Uint8Array(off + 16 + len);
        buf.set(msg, off + 16);
        box.seal(1, 2, buf, off + 16, len, buf, off);
        expect(hex(buf.subarray(off)), `in place ${len}`).to.equal(want);
        const back = Uint8Array.from(buf);
        expect(box.open(1, 2, back, off, len, back, off + 16)).to.equal(true);
        expect(Buffer.from(back.subarray(off + 16)).equals(msg)).to.equal(true);
        // sealFlagged with a payload view at an odd byte offset.
        const host = new Uint8Array(len + 3);
        const payload = host.subarray(3);
        payload.set(msg);
        const out = new Uint8Array(len + 17 + 1);
        box.sealFlagged(1, 2, 5, payload, out, 1);
        const plain = Buffer.concat([Buffer.from([5]), msg]);
        expect(hex(out.subarray(1)), `flagged ${len}`).to.equal(hex(sodium.crypto_secretbox_easy(plain, nonce, k)));
        const dst = new Uint8Array(len + 1).subarray(1);
        expect(box.openFlagged(1, 2, out, 1, len + 1, dst)).to.equal(5);
        expect(Buffer.from(dst).equals(msg)).to.equal(true);
      }
    });
  });
});
