import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import { isZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { generateKeypair, publicKeyFromSecret, z85Decode, z85Encode } from '../../curve/index.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseKey, x25519, x25519Backend } from '../../curve/keys.js';
import { catchError, LOW_ORDER_POINTS, makePair, runHandshake } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));


describe('curve/keys', () => {
  before(async () => {
    await sodium.ready;
  });

  it('matches the RFC 7748 §6.1 X25519 vector', () => {
    const aliceSk = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobSk = unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    expect(hex(publicKeyFromSecret(aliceSk))).to.equal('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    const bobPk = publicKeyFromSecret(bobSk);
    expect(hex(bobPk)).to.equal('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(hex(x25519(aliceSk, bobPk))).to.equal('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it("matches libzmq's Z85 test key pairs (tests/testutil_security)", () => {
    const pairs = [
      ['Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID', 'D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs'],
      ['rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7', 'JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6'],
    ];
    for (const [pub, sec] of pairs) expect(z85Encode(publicKeyFromSecret(z85Decode(sec!)))).to.equal(pub);
  });

  it('derives the same public keys as libsodium crypto_scalarmult_base (300 random secrets)', () => {
    for (let i = 0; i < 300; i++) {
      const sk = sodium.randombytes_buf(32);
      expect(hex(publicKeyFromSecret(sk))).to.equal(hex(sodium.crypto_scalarmult_base(sk)));
    }
  });

  it('agrees with libsodium crypto_scalarmult on random key pairs', () => {
    for (let i = 0; i < 100; i++) {
      const a = generateKeypair();
      const b = sodium.crypto_box_keypair();
      expect(hex(x25519(a.secretKey, b.publicKey))).to.equal(hex(sodium.crypto_scalarmult(b.privateKey, a.publicKey)));
    }
  });

  it('generates consistent, distinct key pairs', () => {
    const a = generateKeypair();
    const b = generateKeypair();
    expect(a.publicKey).to.have.length(32);
    expect(a.secretKey).to.have.length(32);
    expect(hex(publicKeyFromSecret(a.secretKey))).to.equal(hex(a.publicKey));
    expect(hex(a.secretKey)).to.not.equal(hex(b.secretKey));
  });

  it('refuses every low-order public key with ERR_ZMTP_CURVE_KEY (as libsodium does)', () => {
    const sk = generateKeypair().secretKey;
    for (const point of LOW_ORDER_POINTS) {
      const err = catchError(() => x25519(sk, unhex(point)));
      expect(isZmtpError(err, ZmtpErrorCode.CURVE_KEY), point).to.equal(true);
      expect(() => sodium.crypto_scalarmult(sk, unhex(point))).to.throw();
    }
  });

  it('validates key types and lengths at the boundary (TypeError / RangeError)', () => {
    expect(() => publicKeyFromSecret('x'.repeat(32) as unknown as Uint8Array)).to.throw(TypeError);
    expect(() => publicKeyFromSecret([...new Uint8Array(32)] as unknown as Uint8Array)).to.throw(TypeError);
    expect(() => publicKeyFromSecret(new Uint8Array(31))).to.throw(RangeError);
    expect(() => publicKeyFromSecret(new Uint8Array(33))).to.throw(RangeError);
    expect(() => x25519(new Uint8Array(32), new Uint8Array(16))).to.throw(RangeError);
  });

  it('parses keys given as bytes, hex or Z85, and rejects anything else', () => {
    const { publicKey } = generateKeypair();
    expect(hex(parseKey(publicKey, 'k'))).to.equal(hex(publicKey));
    expect(hex(parseKey(hex(publicKey), 'k'))).to.equal(hex(publicKey));
    expect(hex(parseKey(hex(publicKey).toUpperCase(), 'k'))).to.equal(hex(publicKey));
    expect(hex(parseKey(z85Encode(publicKey), 'k'))).to.equal(hex(publicKey));
    expect(() => parseKey('g'.repeat(64), 'k')).to.throw(RangeError);
    expect(() => parseKey('~'.repeat(40), 'k')).to.throw(RangeError);
    expect(() => parseKey('abc', 'k')).to.throw(RangeError);
    expect(() => parseKey(42 as unknown as Uint8Array, 'k')).to.throw(TypeError);
    // A copy: mutating the caller's array afterwards must not change the parsed key.
    const copy = parseKey(publicKey, 'k');
    publicKey[0] ^= 1;
    expect(copy[0]).to.not.equal(publicKey[0]);
  });

  describe('the @noble/curves fallback', () => {
    afterEach(() => x25519Backend.forceNoble(false));

    it('is not loaded by importing the package and running X25519 on a platform that has it', async () => {
      const lib = fileURLToPath(new URL('../../lib/index.js', import.meta.url));
      const keys = fileURLToPath(new URL('../../curve/keys.js', import.meta.url));
      const program = `
        await import(${JSON.stringify(lib)});
        const k = await import(${JSON.stringify(keys)});
        const a = k.generateKeypair(), b = k.generateKeypair();
        k.x25519(a.secretKey, b.publicKey);
        console.log(JSON.stringify({ name: k.x25519Backend.name, noble: k.x25519Backend.nobleLoaded }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program]);
      expect(JSON.parse(stdout)).to.deep.equal({ name: 'node:crypto', noble: false });
    });

    it('derives the same public keys and shared secrets as the platform X25519 (100 random pairs)', () => {
      const pairs = Array.from({ length: 100 }, () => [generateKeypair(), generateKeypair()] as const);
      const platform = pairs.map(([a, b]) => [hex(publicKeyFromSecret(a.secretKey)), hex(x25519(a.secretKey, b.publicKey))]);
      x25519Backend.forceNoble(true);
      expect(x25519Backend.name).to.equal('@noble/curves');
      const fallback = pairs.map(([a, b]) => [hex(publicKeyFromSecret(a.secretKey)), hex(x25519(a.secretKey, b.publicKey))]);
      expect(x25519Backend.nobleLoaded).to.equal(true);
      expect(fallback).to.deep.equal(platform);
      expect(platform.every(([pub], i) => pub === hex(pairs[i]![0].publicKey))).to.equal(true);
    });

    it('refuses low-order public keys with ERR_ZMTP_CURVE_KEY and completes a CURVE handshake', () => {
      x25519Backend.forceNoble(true);
      const sk = generateKeypair().secretKey;
      for (const point of LOW_ORDER_POINTS) {
        expect(isZmtpError(catchError(() => x25519(sk, unhex(point))), ZmtpErrorCode.CURVE_KEY), point).to.equal(true);
      }
      const p = makePair();
      runHandshake(p);
      expect([p.clientHost.complete, p.serverHost.complete]).to.deep.equal([1, 1]);
      expect(hex(p.serverHost.admitted[0]!.publicKey!)).to.equal(hex(p.clientKeys.publicKey));
    });
  });
});
