/**
 * A second, independent reference for the box (beside libsodium in box.spec.ts): @noble/ciphers'
 * XSalsa20-Poly1305 and @noble/curves' X25519, so a bug shared by our code and one reference
 * cannot hide. Random keys, nonces and lengths, both directions.
 */
import { expect } from 'chai';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { beforenm, open, seal } from '../../curve/box.js';
import { prng, randomBytesFrom } from './helpers.js';

describe('curve/box against @noble (an independent second reference)', () => {
  it('seal equals noble xsalsa20poly1305 encrypt, and open reverses noble, on 1000 random keys, nonces and lengths 0…3000', () => {
    const rnd = prng(0x0b1e);
    for (let i = 0; i < 1000; i++) {
      const key = randomBytesFrom(rnd, 32);
      const nonce = randomBytesFrom(rnd, 24);
      const msg = randomBytesFrom(rnd, rnd(3001));
      const ours = seal(key, nonce, msg);
      const theirs = xsalsa20poly1305(key, nonce).encrypt(msg);
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), `case ${i}, ${msg.length} bytes`).to.equal(true);
      const back = open(key, nonce, theirs);
      expect(back && Buffer.from(back).equals(Buffer.from(msg))).to.equal(true);
      if (theirs.length > 0) {
        theirs[rnd(theirs.length)]! ^= 1 << rnd(8);
        expect(open(key, nonce, theirs), 'a flipped bit never opens').to.equal(null);
      }
    }
  });

  it('beforenm equals HSalsa20(X25519 shared secret) computed with @noble/curves', () => {
    const rnd = prng(0xbe40e);
    for (let i = 0; i < 50; i++) {
      const a = randomBytesFrom(rnd, 32);
      const b = randomBytesFrom(rnd, 32);
      const shared = x25519.getSharedSecret(a, x25519.getPublicKey(b));
      // crypto_box_beforenm = HSalsa20(key = shared secret, input = 16 zero bytes), all words little-endian.
      const words = (b: Uint8Array) => new Uint32Array(Uint8Array.from(b).buffer);
      const expected = new Uint32Array(8);
      hsalsa(words(Buffer.from('expand 32-byte k', 'latin1')), words(shared), new Uint32Array(4), expected);
      const got = beforenm(x25519.getPublicKey(b), a);
      expect(Buffer.from(got).equals(Buffer.from(expected.buffer)), `pair ${i}`).to.equal(true);
    }
  });
});
