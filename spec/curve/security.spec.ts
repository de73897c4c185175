/**
 * Security properties of the CURVE mechanisms, one test per violation, each asserting its error
 * code. A second, independent CurveZMQ client/server written here over libsodium crafts the
 * commands our own mechanisms would never produce (stale nonces, foreign vouches, low-order keys).
 */
import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { isZmtpError, ZmtpError, ZmtpErrorCode, type ZmtpErrorCode as Code } from '../../zmtp/errors.js';
import type { Mechanism } from '../../zmtp/mechanism.js';
import { curveServer, generateKeypair, type CurveKeypair } from '../../curve/index.js';
import {
  CLIENT_METADATA,
  catchError,
  FakeHost,
  LOW_ORDER_POINTS,
  makePair,
  prng,
  randomBytesFrom,
  runHandshake,
  SERVER_METADATA,
  upTo,
} from './helpers.js';

const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function expectCode(fn: () => unknown, code: Code): void {
  const err = catchError(fn);
  if (!isZmtpError(err, code)) throw new Error(`expected ${code}, got ${String((err as { code?: string }).code ?? err)}`);
}

function u64be(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function flip(body: Buffer, offset: number): Buffer {
  const copy = Buffer.from(body);
  copy[offset]! ^= 0x01;
  return copy;
}

/** An independent CurveZMQ client over libsodium, driving one of our server mechanisms. */
class SodiumClient {
  readonly transient = sodium.crypto_box_keypair();
  readonly host = new FakeHost(SERVER_METADATA);
  readonly server: Mechanism;
  serverTransient: Uint8Array = new Uint8Array(32);
  cookie = Buffer.alloc(96);

  constructor(
    readonly serverKeys: CurveKeypair,
    readonly longTerm: { publicKey: Uint8Array; privateKey: Uint8Array },
  ) {
    this.server = curveServer(serverKeys).create(this.host, 'server');
  }

  static withKeys(serverKeys: CurveKeypair): SodiumClient {
    const kp = sodium.crypto_box_keypair();
    return new SodiumClient(serverKeys, { publicKey: kp.publicKey, privateKey: kp.privateKey });
  }

  hello(opts: { nonce?: number; transientPublic?: Uint8Array } = {}): Buffer {
    const nonce = u64be(opts.nonce ?? 1);
    const box = sodium.crypto_box_easy(new Uint8Array(64), Buffer.concat([Buffer.from('CurveZMQHELLO---'), nonce]), this.serverKeys.publicKey, this.transient.privateKey);
    return Buffer.concat([Buffer.from('\x05HELLO\x01\x00', 'latin1'), Buffer.alloc(72), opts.transientPublic ?? this.transient.publicKey, nonce, box]);
  }

  /** Sends HELLO and reads the WELCOME the server answers with. */
  greet(): void {
    this.server.onCommand(this.hello());
    const welcome = this.host.sent.shift()!;
    const plain = sodium.crypto_box_open_easy(welcome.subarray(24), Buffer.concat([Buffer.from('WELCOME-'), welcome.subarray(8, 24)]), this.serverKeys.publicKey, this.transient.privateKey);
    this.serverTransient = plain.slice(0, 32);
    this.cookie = Buffer.from(plain.subarray(32));
  }

  initiate(opts: { nonce?: number; vouchTransient?: Uint8Array; vouchServer?: Uint8Array; clientKey?: Uint8Array; metadata?: Uint8Array } = {}): Buffer {
    const v = sodium.randombytes_buf(16);
    const vouch = sodium.crypto_box_easy(
      Buffer.concat([opts.vouchTransient ?? this.transient.publicKey, opts.vouchServer ?? this.serverKeys.publicKey]),
      Buffer.concat([Buffer.from('VOUCH---'), v]),
      this.serverTransient,
      this.longTerm.privateKey,
    );
    const inner = Buffer.concat([opts.clientKey ?? this.longTerm.publicKey, v, vouch, opts.metadata ?? CLIENT_METADATA]);
    const nonce = u64be(opts.nonce ?? 2);
    const box = sodium.crypto_box_easy(inner, Buffer.concat([Buffer.from('CurveZMQINITIATE'), nonce]), this.serverTransient, this.transient.privateKey);
    return Buffer.concat([Buffer.from('\x08INITIATE', 'latin1'), this.cookie, nonce, box]);
  }

  message(nonce: number, flags: number, payload: Uint8Array): Buffer {
    const n = u64be(nonce);
    const box = sodium.crypto_box_easy(Buffer.concat([Buffer.from([flags]), payload]), Buffer.concat([Buffer.from('CurveZMQMESSAGEC'), n]), this.serverTransient, this.transient.privateKey);
    return Buffer.concat([Buffer.from('\x07MESSAGE', 'latin1'), n, box]);
  }
}

describe('curve security', () => {
  before(async () => {
    await sodium.ready;
  });

  describe('independent libsodium peer (positive control)', () => {
    it('a libsodium-built client completes the handshake with our server and exchanges MESSAGEs', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      c.server.onCommand(c.initiate());
      expect(c.host.complete).to.equal(1);
      expect(Buffer.from(c.server.peerPublicKey!).equals(Buffer.from(c.longTerm.publicKey))).to.equal(true);
      const out = c.server.codec!.decodeFrame(0, c.message(3, 0x03, Buffer.from('hi')));
      expect(out.toString()).to.equal('hi');
      expect(c.server.codec!.lastFlags).to.equal(0x01 | 0x04); // inner MORE|COMMAND → ZMTP MORE|COMMAND
      // READY opens with libsodium under S'↔C' with nonce 1.
      const ready = c.host.sent.shift()!;
      const md = sodium.crypto_box_open_easy(ready.subarray(14), Buffer.concat([Buffer.from('CurveZMQREADY---'), ready.subarray(6, 14)]), c.serverTransient, c.transient.privateKey);
      expect(Buffer.from(md).equals(SERVER_METADATA)).to.equal(true);
    });
  });

  describe('HELLO', () => {
    it('a client with the wrong server key is rejected at HELLO (ERR_ZMTP_CURVE_HELLO)', () => {
      const { p, pending } = upTo('HELLO', { serverKeyForClient: generateKeypair().publicKey });
      expectCode(() => p.server.onCommand(pending), ZmtpErrorCode.CURVE_HELLO);
      expect(p.serverHost.sent).to.have.length(0); // nothing answered, as libzmq closes silently
    });

    it('rejects a version other than 1.0', () => {
      for (const [major, minor] of [[2, 0], [1, 1], [0, 0]]) {
        const { p, pending } = upTo('HELLO');
        pending[6] = major!;
        pending[7] = minor!;
        expectCode(() => p.server.onCommand(pending), ZmtpErrorCode.CURVE_HELLO);
      }
    });

    it('rejects a HELLO that is not exactly 200 bytes, or another command', () => {
      const { pending } = upTo('HELLO');
      for (const bad of [pending.subarray(0, 199), Buffer.concat([pending, Buffer.alloc(1)]), Buffer.from('\x05READY'), Buffer.concat([Buffer.from('\x05HELLX'), pending.subarray(6)])]) {
        const { p } = upTo('HELLO');
        expectCode(() => p.server.onCommand(bad), ZmtpErrorCode.CURVE_HELLO);
      }
    });

    it('rejects a tampered HELLO box or transient key', () => {
      for (const offset of [80, 111, 112, 119, 120, 140, 199]) {
        const { p, pending } = upTo('HELLO');
        const err = catchError(() => p.server.onCommand(flip(pending, offset)));
        expect(isZmtpError(err, ZmtpErrorCode.CURVE_HELLO), `offset ${offset}`).to.equal(true);
      }
    });

    it('refuses low-order client transient keys with ERR_ZMTP_CURVE_KEY', () => {
      for (const point of LOW_ORDER_POINTS) {
        const c = SodiumClient.withKeys(generateKeypair());
        expectCode(() => c.server.onCommand(c.hello({ transientPublic: unhex(point) })), ZmtpErrorCode.CURVE_KEY);
      }
    });
  });

  describe('WELCOME', () => {
    it('rejects a WELCOME that is not exactly 168 bytes, or another command', () => {
      const { pending } = upTo('WELCOME');
      for (const bad of [pending.subarray(0, 167), Buffer.concat([pending, Buffer.alloc(1)]), Buffer.concat([Buffer.from('\x05READY'), Buffer.alloc(162)])]) {
        const { p } = upTo('WELCOME');
        expectCode(() => p.client.onCommand(bad), ZmtpErrorCode.CURVE_WELCOME);
      }
    });

    it('rejects a tampered WELCOME (nonce or box)', () => {
      for (const offset of [8, 23, 24, 60, 167]) {
        const { p, pending } = upTo('WELCOME');
        expectCode(() => p.client.onCommand(flip(pending, offset)), ZmtpErrorCode.CURVE_WELCOME);
      }
    });

    it('refuses a low-order server transient key with ERR_ZMTP_CURVE_KEY', () => {
      const serverKeys = generateKeypair();
      for (const point of LOW_ORDER_POINTS.slice(0, 4)) {
        const { p } = upTo('WELCOME', { serverKeys });
        const clientTransient = p.fromClient[0]!.subarray(80, 112);
        const w = sodium.randombytes_buf(16);
        const box = sodium.crypto_box_easy(Buffer.concat([unhex(point), Buffer.alloc(96)]), Buffer.concat([Buffer.from('WELCOME-'), w]), clientTransient, serverKeys.secretKey);
        const welcome = Buffer.concat([Buffer.from('\x07WELCOME'), w, box]);
        expectCode(() => p.client.onCommand(welcome), ZmtpErrorCode.CURVE_KEY);
      }
    });
  });

  describe('INITIATE', () => {
    it('rejects an INITIATE shorter than 257 bytes, or another command', () => {
      const { pending } = upTo('INITIATE');
      for (const bad of [pending.subarray(0, 256), Buffer.concat([Buffer.from('\x05HELLO'), pending.subarray(6)])]) {
        const { p } = upTo('INITIATE');
        expectCode(() => p.server.onCommand(bad), ZmtpErrorCode.CURVE_INITIATE);
      }
    });

    it('rejects a tampered cookie, nonce or box', () => {
      for (const offset of [9, 24, 60, 104, 105, 112, 113, 200, 256]) {
        const { p, pending } = upTo('INITIATE');
        expectCode(() => p.server.onCommand(flip(pending, offset)), ZmtpErrorCode.CURVE_INITIATE);
        expect(p.serverHost.admitted).to.have.length(0);
      }
    });

    it('a cookie is useless on another connection (whole INITIATE replayed, or cookie spliced in)', () => {
      const serverKeys = generateKeypair();
      const a = upTo('INITIATE', { serverKeys });
      const b = upTo('INITIATE', { serverKeys });
      expectCode(() => b.p.server.onCommand(a.pending), ZmtpErrorCode.CURVE_INITIATE);
      const c = upTo('INITIATE', { serverKeys });
      const spliced = Buffer.from(c.pending);
      a.pending.copy(spliced, 9, 9, 105);
      expectCode(() => c.p.server.onCommand(spliced), ZmtpErrorCode.CURVE_INITIATE);
      expect(b.p.serverHost.admitted.length + c.p.serverHost.admitted.length).to.equal(0);
    });

    it('rejects an INITIATE whose nonce does not exceed HELLO’s (handshake nonces count)', () => {
      for (const nonce of [1, 0]) {
        const c = SodiumClient.withKeys(generateKeypair());
        c.greet();
        expectCode(() => c.server.onCommand(c.initiate({ nonce })), ZmtpErrorCode.CURVE_INITIATE);
      }
    });

    it('rejects a vouch for a different transient key', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      expectCode(() => c.server.onCommand(c.initiate({ vouchTransient: sodium.crypto_box_keypair().publicKey })), ZmtpErrorCode.CURVE_INITIATE);
      expect(c.host.admitted).to.have.length(0);
    });

    it('rejects a vouch naming another server', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      expectCode(() => c.server.onCommand(c.initiate({ vouchServer: generateKeypair().publicKey })), ZmtpErrorCode.CURVE_INITIATE);
    });

    it('rejects a vouch made by another long-term key than the one claimed', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      expectCode(() => c.server.onCommand(c.initiate({ clientKey: generateKeypair().publicKey })), ZmtpErrorCode.CURVE_INITIATE);
    });

    it('refuses low-order client long-term keys with ERR_ZMTP_CURVE_KEY', () => {
      for (const point of LOW_ORDER_POINTS.slice(0, 4)) {
        const c = SodiumClient.withKeys(generateKeypair());
        c.greet();
        expectCode(() => c.server.onCommand(c.initiate({ clientKey: unhex(point) })), ZmtpErrorCode.CURVE_KEY);
        expect(c.host.admitted).to.have.length(0);
      }
    });

    it('malformed INITIATE metadata surfaces the host’s ZmtpError and sends no READY', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      expectCode(() => c.server.onCommand(c.initiate({ metadata: Buffer.from([5, 0x41]) })), ZmtpErrorCode.MALFORMED_COMMAND);
      expect(c.host.sent).to.have.length(0);
    });
  });

  describe('READY', () => {
    it('rejects a READY shorter than 30 bytes, or another command', () => {
      const { pending } = upTo('READY');
      for (const bad of [pending.subarray(0, 29), Buffer.concat([Buffer.from('\x05ERRXR'), pending.subarray(6)])]) {
        const { p } = upTo('READY');
        expectCode(() => p.client.onCommand(bad), ZmtpErrorCode.CURVE_READY);
      }
    });

    it('rejects a tampered READY (nonce or box) and never completes', () => {
      for (const offset of [6, 13, 14, 29, 40]) {
        const { p, pending } = upTo('READY');
        expectCode(() => p.client.onCommand(flip(pending, offset)), ZmtpErrorCode.CURVE_READY);
        expect(p.clientHost.complete).to.equal(0);
        expect(p.client.codec).to.equal(null);
      }
    });
  });

  describe('MESSAGE', () => {
    function established() {
      const p = makePair();
      runHandshake(p);
      const frame = (text: string) => {
        const wire = Buffer.from(p.client.codec!.encodeFrame(0, Buffer.from(text)));
        return wire.subarray(2);
      };
      return { p, frame };
    }

    it('rejects a tampered byte anywhere in the frame body', () => {
      const { frame } = established();
      const body = frame('hello world');
      for (let offset = 0; offset < body.length; offset++) {
        const { p } = established();
        // a fresh connection has the same first counter (3), so the frame is valid there unaltered
        const fresh = Buffer.from(p.client.codec!.encodeFrame(0, Buffer.from('hello world'))).subarray(2);
        expect(fresh.length).to.equal(body.length);
        expectCode(() => p.server.codec!.decodeFrame(0, flip(fresh, offset)), ZmtpErrorCode.CURVE_MESSAGE);
      }
    });

    it('rejects a body shorter than 33 bytes or not named MESSAGE', () => {
      const { p, frame } = established();
      expectCode(() => p.server.codec!.decodeFrame(0, frame('x').subarray(0, 32)), ZmtpErrorCode.CURVE_MESSAGE);
      const q = established();
      expectCode(() => q.p.server.codec!.decodeFrame(0, Buffer.concat([Buffer.from('\x04PING'), Buffer.alloc(40)])), ZmtpErrorCode.CURVE_MESSAGE);
    });

    it('rejects a replayed MESSAGE', () => {
      const { p, frame } = established();
      const m = frame('once');
      expect(p.server.codec!.decodeFrame(0, m).toString()).to.equal('once');
      expectCode(() => p.server.codec!.decodeFrame(0, m), ZmtpErrorCode.CURVE_MESSAGE);
    });

    it('rejects reordered MESSAGEs, and the codec stays failed afterwards', () => {
      const { p, frame } = established();
      const m1 = frame('one');
      const m2 = frame('two');
      const m3 = frame('three');
      expect(p.server.codec!.decodeFrame(0, m2).toString()).to.equal('two');
      expectCode(() => p.server.codec!.decodeFrame(0, m1), ZmtpErrorCode.CURVE_MESSAGE);
      expectCode(() => p.server.codec!.decodeFrame(0, m3), ZmtpErrorCode.CURVE_MESSAGE);
    });

    it('rejects a validly boxed MESSAGE reusing the INITIATE nonce (2); accepts 3', () => {
      const c = SodiumClient.withKeys(generateKeypair());
      c.greet();
      c.server.onCommand(c.initiate());
      expectCode(() => c.server.codec!.decodeFrame(0, c.message(2, 0, Buffer.from('stale'))), ZmtpErrorCode.CURVE_MESSAGE);
      const d = SodiumClient.withKeys(generateKeypair());
      d.greet();
      d.server.onCommand(d.initiate());
      expect(d.server.codec!.decodeFrame(0, d.message(3, 0, Buffer.from('fresh'))).toString()).to.equal('fresh');
      // Skipping ahead is allowed (only strictly increasing is required); going back is not.
      expect(d.server.codec!.decodeFrame(0, d.message(1000, 0, Buffer.from('later'))).toString()).to.equal('later');
      expectCode(() => d.server.codec!.decodeFrame(0, d.message(999, 0, Buffer.from('old'))), ZmtpErrorCode.CURVE_MESSAGE);
    });
  });

  describe('state machine', () => {
    it('commands after the handshake, or after a failure, are ERR_ZMTP_UNEXPECTED_COMMAND', () => {
      const p = makePair();
      runHandshake(p);
      expectCode(() => p.server.onCommand(p.fromClient[0]!), ZmtpErrorCode.UNEXPECTED_COMMAND);
      expectCode(() => p.client.onCommand(p.fromServer[1]!), ZmtpErrorCode.UNEXPECTED_COMMAND);
      const { p: q, pending } = upTo('HELLO');
      expectCode(() => q.server.onCommand(flip(pending, 150)), ZmtpErrorCode.CURVE_HELLO);
      expectCode(() => q.server.onCommand(pending), ZmtpErrorCode.UNEXPECTED_COMMAND); // failed stays failed
    });

    it('a second HELLO where INITIATE is due is rejected as a bad INITIATE', () => {
      const { p } = upTo('INITIATE');
      expectCode(() => p.server.onCommand(p.fromClient[0]!), ZmtpErrorCode.CURVE_INITIATE);
    });
  });

  describe('HELLO flood', () => {
    it('10k HELLOs to fresh server connections leave no shared state: every connection is collectable', async function () {
      this.timeout(15_000);
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as () => void;
      const serverKeys = generateKeypair();
      const factory = curveServer(serverKeys);
      const factoryShape = JSON.stringify(Object.keys(factory));
      const hello = SodiumClient.withKeys(serverKeys).hello();
      const refs: WeakRef<Mechanism>[] = [];
      const N = 10_000;
      let welcomes = 0;
      for (let i = 0; i < N; i++) {
        const host = new FakeHost(SERVER_METADATA);
        const m = factory.create(host, 'server');
        m.onCommand(hello);
        welcomes += host.sent.length;
        refs.push(new WeakRef(m));
      }
      expect(welcomes).to.equal(N); // every connection answered (the flood was really processed)
      expect(JSON.stringify(Object.keys(factory))).to.equal(factoryShape);
      // WeakRef targets survive until the end of the current job: yield, then collect.
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      const alive = refs.filter((r) => r.deref() !== undefined).length;
      expect(alive).to.be.below(N / 100);
    });
  });

  describe('property: arbitrary bytes at every stage give a ZmtpError, never another exception', () => {
    const rand = prng(0xc0ffee);
    const names = ['HELLO', 'WELCOME', 'INITIATE', 'READY', 'MESSAGE', 'ERROR', 'PING'];

    /** Random bodies: pure noise, a right name with noise, and the right size with noise. */
    function garbage(name: string, size: number): Buffer {
      const kind = rand(3);
      if (kind === 0) return randomBytesFrom(rand, rand(400));
      const n = kind === 1 ? names[rand(names.length)]! : name;
      const len = kind === 1 ? 1 + n.length + rand(400) : Math.max(size, 1 + n.length);
      const b = randomBytesFrom(rand, len);
      b[0] = n.length;
      b.write(n, 1, 'latin1');
      return b;
    }

    const stages = [
      { stage: 'HELLO' as const, name: 'HELLO', size: 200, to: 'server' as const },
      { stage: 'WELCOME' as const, name: 'WELCOME', size: 168, to: 'client' as const },
      { stage: 'INITIATE' as const, name: 'INITIATE', size: 257 + rand(50), to: 'server' as const },
      { stage: 'READY' as const, name: 'READY', size: 30 + rand(50), to: 'client' as const },
    ];
    for (const { stage, name, size, to } of stages) {
      it(`${stage} stage (150 random bodies)`, () => {
        let rejected = 0;
        for (let i = 0; i < 150; i++) {
          const { p } = upTo(stage);
          const target = to === 'server' ? p.server : p.client;
          const body = garbage(name, size);
          if (name === 'HELLO' && body.length === 200 && rand(2) === 0) {
            body[6] = 1; // a valid version, so the noise reaches the box
            body[7] = 0;
          }
          try {
            target.onCommand(body);
          } catch (err) {
            expect(err).to.be.instanceOf(ZmtpError);
            rejected++;
          }
        }
        expect(rejected).to.equal(150);
      });
    }

    it('MESSAGE decode on both sides (300 random bodies each)', () => {
      const p = makePair();
      runHandshake(p);
      for (const codec of [p.server.codec!, p.client.codec!]) {
        let rejected = 0;
        for (let i = 0; i < 300; i++) {
          try {
            codec.decodeFrame(rand(8), garbage('MESSAGE', 33 + rand(100)));
          } catch (err) {
            expect(err).to.be.instanceOf(ZmtpError);
            rejected++;
          }
        }
        expect(rejected).to.equal(300);
      }
    });
  });
});
