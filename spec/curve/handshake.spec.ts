import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import { latin1Key } from '../../zmtp/bytes.js';
import { isZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE } from '../../zmtp/frame.js';
import type { FrameCodec } from '../../zmtp/mechanism.js';
import { curveClient, curveServer, generateKeypair } from '../../curve/index.js';
import { CLIENT_METADATA, catchError, FakeHost, makePair, pump, runHandshake, SERVER_METADATA, type Pair } from './helpers.js';
import { nodeBuf } from '../helpers/bytes.js';

const ascii = latin1Key;
const u64 = (b: Uint8Array, off: number) => nodeBuf(b).readBigUInt64BE(off);

/** Splits a wire frame from encodeFrame into flags, declared size and body. */
function parseWire(wire: Uint8Array): { flags: number; size: number; body: Uint8Array } {
  const b = Buffer.from(wire);
  const flags = b[0]!;
  if (flags & FLAG_LONG) {
    const size = Number(b.readBigUInt64BE(1));
    return { flags, size, body: b.subarray(9) };
  }
  return { flags, size: b[1]!, body: b.subarray(2) };
}

/** Sends one logical frame through `from` and decodes it with `to`. */
function roundTrip(from: FrameCodec, to: FrameCodec, flags: number, payload: Uint8Array): { payload: Uint8Array; flags: number } {
  const wire = parseWire(from.encodeFrame(flags, payload));
  const out = to.decodeFrame(wire.flags, wire.body);
  return { payload: out, flags: to.lastFlags };
}

describe('curve handshake (client ↔ server in memory)', () => {
  let p: Pair;

  before(async () => {
    await sodium.ready;
  });

  beforeEach(() => {
    p = makePair();
    runHandshake(p);
  });

  it('completes in both directions and admits each side with the other’s long-term key', () => {
    expect(p.clientHost.complete).to.equal(1);
    expect(p.serverHost.complete).to.equal(1);
    expect(p.client.codec).to.not.equal(null);
    expect(p.server.codec).to.not.equal(null);
    expect(p.serverHost.admitted).to.have.length(1);
    expect(Buffer.from(p.serverHost.admitted[0]!.publicKey!).equals(Buffer.from(p.clientKeys.publicKey))).to.equal(true);
    expect(p.serverHost.admitted[0]!.metadata.equals(CLIENT_METADATA)).to.equal(true);
    expect(Buffer.from(p.clientHost.admitted[0]!.publicKey!).equals(Buffer.from(p.serverKeys.publicKey))).to.equal(true);
    expect(p.clientHost.admitted[0]!.metadata.equals(SERVER_METADATA)).to.equal(true);
    expect(Buffer.from(p.server.peerPublicKey!).equals(Buffer.from(p.clientKeys.publicKey))).to.equal(true);
    expect(Buffer.from(p.client.peerPublicKey!).equals(Buffer.from(p.serverKeys.publicKey))).to.equal(true);
    expect(p.fromClient.map((b) => ascii(b.subarray(1, 1 + b[0]!)))).to.deep.equal(['HELLO', 'INITIATE']);
    expect(p.fromServer.map((b) => ascii(b.subarray(1, 1 + b[0]!)))).to.deep.equal(['WELCOME', 'READY']);
  });

  it('HELLO: 200 bytes, version 1.0, 72 zero bytes at 8, C′ at 80, nonce 1, a box libsodium opens to 64 zeros', () => {
    const hello = p.fromClient[0]!;
    expect(hello).to.have.length(200);
    expect(ascii(hello.subarray(0, 6))).to.equal('\x05HELLO');
    expect([hello[6], hello[7]]).to.deep.equal([1, 0]);
    expect(hello.subarray(8, 80).every((b) => b === 0)).to.equal(true);
    expect(u64(hello, 112)).to.equal(1n);
    const nonce = Buffer.concat([Buffer.from('CurveZMQHELLO---'), hello.subarray(112, 120)]);
    const plain = sodium.crypto_box_open_easy(hello.subarray(120), nonce, hello.subarray(80, 112), p.serverKeys.secretKey);
    expect(Buffer.from(plain).equals(Buffer.alloc(64))).to.equal(true);
  });

  it('WELCOME: 168 bytes whose box (S→C′) libsodium opens to S′ ‖ a 96-byte cookie', () => {
    const welcome = p.fromServer[0]!;
    expect(welcome).to.have.length(168);
    expect(ascii(welcome.subarray(0, 8))).to.equal('\x07WELCOME');
    const clientTransient = p.fromClient[0]!.subarray(80, 112);
    const nonce = Buffer.concat([Buffer.from('WELCOME-'), welcome.subarray(8, 24)]);
    const plain = sodium.crypto_box_open_easy(welcome.subarray(24), nonce, clientTransient, p.serverKeys.secretKey);
    expect(plain).to.have.length(128);
    // The cookie travels back verbatim in INITIATE.
    expect(p.fromClient[1]!.subarray(9, 105).equals(Buffer.from(plain.subarray(32)))).to.equal(true);
  });

  it('INITIATE: 257 + metadata bytes, cookie at 9, nonce 2; READY: 30 + metadata bytes, nonce 1', () => {
    const initiate = p.fromClient[1]!;
    expect(ascii(initiate.subarray(0, 9))).to.equal('\x08INITIATE');
    expect(initiate).to.have.length(257 + CLIENT_METADATA.length);
    expect(u64(initiate, 105)).to.equal(2n);
    const ready = p.fromServer[1]!;
    expect(ascii(ready.subarray(0, 6))).to.equal('\x05READY');
    expect(ready).to.have.length(30 + SERVER_METADATA.length);
    expect(u64(ready, 6)).to.equal(1n);
  });

  it('MESSAGE counters continue the handshake: client 3, 4…; server 2, 3…', () => {
    const c1 = parseWire(p.client.codec!.encodeFrame(0, Buffer.from('a'))).body;
    const c2 = parseWire(p.client.codec!.encodeFrame(0, Buffer.from('b'))).body;
    const s1 = parseWire(p.server.codec!.encodeFrame(0, Buffer.from('c'))).body;
    expect([u64(c1, 8), u64(c2, 8), u64(s1, 8)]).to.deep.equal([3n, 4n, 2n]);
    expect(p.server.codec!.decodeFrame(0, c1).toString()).to.equal('a');
    expect(p.server.codec!.decodeFrame(0, c2).toString()).to.equal('b');
    expect(p.client.codec!.decodeFrame(0, s1).toString()).to.equal('c');
  });

  it('MESSAGE wire layout: flags 0x00, 07 "MESSAGE" ‖ nonce ‖ box of 17 + n bytes; LONG only above 255', () => {
    for (const [n, long] of [[0, false], [222, false], [223, true], [70_000, true]] as const) {
      const wire = parseWire(p.client.codec!.encodeFrame(FLAG_MORE | FLAG_COMMAND, Buffer.alloc(n, 1)));
      expect(wire.flags).to.equal(long ? FLAG_LONG : 0); // never MORE or COMMAND on the wire
      expect(wire.size).to.equal(33 + n);
      expect(wire.body).to.have.length(33 + n);
      expect(ascii(wire.body.subarray(0, 8))).to.equal('\x07MESSAGE');
      p.server.codec!.decodeFrame(wire.flags, wire.body);
    }
  });

  it('round-trips multipart data, COMMAND frames (PING inside MESSAGE), empty and large payloads both ways', () => {
    const c = p.client.codec!;
    const s = p.server.codec!;
    const cases: [number, Buffer][] = [
      [FLAG_MORE, Buffer.from('part 1')],
      [FLAG_MORE, Buffer.alloc(0)],
      [0, Buffer.from('last part')],
      [FLAG_COMMAND, Buffer.from('\x04PING\x00\x00', 'latin1')],
      [0, Buffer.alloc(0)],
      [0, Buffer.alloc(300_000, 0xab)],
      [FLAG_MORE, Buffer.alloc(255, 7)],
    ];
    for (const [flags, payload] of cases) {
      const there = roundTrip(c, s, flags, payload);
      expect(there.flags).to.equal(flags);
      expect(nodeBuf(there.payload).equals(payload)).to.equal(true);
      const back = roundTrip(s, c, flags, payload);
      expect(back.flags).to.equal(flags);
      expect(nodeBuf(back.payload).equals(payload)).to.equal(true);
    }
  });

  it('decodes in place: a payload is a view of its own frame bytes, and later frames never clobber it', () => {
    // The engine hands the codec each frame's own bytes (a region of a socket chunk that is never
    // reused, or the decoder's private copy), so decrypting in place saves an allocation per frame.
    const got: Uint8Array[] = [];
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const frame = Buffer.from(parseWire(p.client.codec!.encodeFrame(0, Buffer.from(`message ${i}`))).body);
      frames.push(frame);
      const payload = p.server.codec!.decodeFrame(0, frame);
      expect(payload.buffer).to.equal(frame.buffer);
      expect(payload.byteOffset).to.equal(frame.byteOffset + 33);
      got.push(payload);
    }
    got.forEach((b, i) => expect(b.toString()).to.equal(`message ${i}`));
  });

  it('an asynchronous admission on the server sends READY only when accepted', () => {
    const q = makePair({ admit: 'defer' });
    runHandshake(q);
    expect(q.fromServer.map((b) => ascii(b.subarray(1, 1 + b[0]!)))).to.deep.equal(['WELCOME']);
    expect(q.serverHost.complete).to.equal(0);
    q.serverHost.pendingAccept!();
    pump(q);
    expect(q.serverHost.complete).to.equal(1);
    expect(q.clientHost.complete).to.equal(1);
  });

  it('a denial (accepted never called) sends no READY and completes nothing', () => {
    const q = makePair({ admit: 'defer' });
    runHandshake(q);
    expect(q.serverHost.admitted).to.have.length(1);
    expect(q.serverHost.sent).to.have.length(0);
    expect(q.fromServer).to.have.length(1); // WELCOME only
    expect(q.server.codec).to.equal(null);
    expect(q.serverHost.complete + q.clientHost.complete).to.equal(0);
    // A late acceptance after the connection is gone must not send anything either.
    q.server.destroy();
    q.serverHost.pendingAccept!();
    expect(q.serverHost.sent).to.have.length(0);
    expect(q.serverHost.complete).to.equal(0);
  });

  it('destroy wipes the codecs: further frames fail with ERR_ZMTP_CURVE_MESSAGE', () => {
    const wire = parseWire(p.client.codec!.encodeFrame(0, Buffer.from('x')));
    p.server.destroy();
    p.client.destroy();
    expect(isZmtpError(catchError(() => p.server.codec!.decodeFrame(0, wire.body)), ZmtpErrorCode.CURVE_MESSAGE)).to.equal(true);
    expect(isZmtpError(catchError(() => p.client.codec!.encodeFrame(0, Buffer.from('y'))), ZmtpErrorCode.CURVE_MESSAGE)).to.equal(true);
  });

  it('factories: name "CURVE", keys as bytes, hex or Z85, role and key checks', () => {
    const server = generateKeypair();
    const client = generateKeypair();
    const f = curveServer({ publicKey: Buffer.from(server.publicKey).toString('hex'), secretKey: server.secretKey });
    expect(f.name).to.equal('CURVE');
    expect(curveClient({ serverKey: server.publicKey, secretKey: client.secretKey }).name).to.equal('CURVE');
    expect(() => curveServer({ publicKey: client.publicKey, secretKey: server.secretKey })).to.throw(RangeError);
    expect(() => curveServer({ secretKey: new Uint8Array(31) })).to.throw(RangeError);
    expect(() => curveClient({ serverKey: 'nope', secretKey: client.secretKey })).to.throw(RangeError);
    expect(() => curveClient(null as never)).to.throw(TypeError);
    const zeroKey = isZmtpError(catchError(() => curveClient({ serverKey: new Uint8Array(32), secretKey: client.secretKey })), ZmtpErrorCode.CURVE_KEY);
    expect(zeroKey).to.equal(true);
    const host = new FakeHost(CLIENT_METADATA);
    expect(isZmtpError(catchError(() => f.create(host, 'client')), ZmtpErrorCode.MECHANISM_MISMATCH)).to.equal(true);
  });
});
