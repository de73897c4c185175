/**
 * Transport and handshake of OxenMQ listeners and outgoing connections (ZMTP 3.1, RFC 23/37;
 * CurveZMQ, RFC 26; socket options as oxen-mq `oxenmq/proxy.cpp` sets them), observed on the
 * wire with raw ZMTP peers where the behaviour is about bytes, TS ↔ TS otherwise; plain and
 * CURVE wherever both apply. Heartbeats and timeouts run on a ManualClock.
 */
import { expect } from 'chai';
import { blake2b } from '@noble/hashes/blake2.js';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import { ConnectionID } from '../../lib/connection-id.js';
import { toHex } from '../../lib/oxenc/index.js';
import type { Message } from '../../lib/message.js';
import { type OxenMQ } from '../../lib/index.js';
import { ManualClock, type ZmtpError, ZmtpErrorCode, encodeCommand } from '../../zmtp/index.js';
import { RawPeer, rawServer } from '../helpers/raw.js';
import { Harness, MODES, portOf, rejection, strs, waitFor } from '../helpers/omq.js';

/** Parses a ZMTP metadata list exactly as sent (names keep their case, order kept). */
function rawMetadata(body: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < body.length) {
    const n = body[i]!;
    const name = body.subarray(i + 1, i + 1 + n).toString('latin1');
    i += 1 + n;
    const len = body.readUInt32BE(i);
    out.push([name, body.subarray(i + 4, i + 4 + len).toString('latin1')]);
    i += 4 + len;
  }
  return out;
}

/** Checks a 64-byte greeting: signature, version 3.1, mechanism, as-server 0. */
function checkGreeting(g: Buffer, mechanism: string): void {
  expect(g).to.have.length(64);
  expect(g[0]).to.equal(0xff);
  expect(g[9]! & 1).to.equal(1);
  expect([g[10], g[11]]).to.deep.equal([3, 1]);
  const mech = Buffer.alloc(20);
  mech.write(mechanism, 'latin1');
  expect(g.subarray(12, 32)).to.deep.equal(mech);
  expect(g[32]).to.equal(0);
}

/** Completes a plain handshake from a raw socket acting as `socketType`. */
async function rawPlainHandshake(peer: RawPeer, socketType: string, identity?: Buffer): Promise<void> {
  peer.sendGreeting('NULL');
  peer.sendReady(socketType, identity);
  await peer.until(() => peer.frames.length >= 1, 'READY');
  expect(peer.commands()[0]).to.equal('READY');
}

const echoSetup = (o: OxenMQ) => {
  o.addCategory('t', AuthLevel.none)
    .addCommand('echo', (m) => m.sendBack('t.echoed', ...m.data))
    .addRequestCommand('req', (m) => m.sendReply('ok', ...m.data));
};

describe('lib/oxenmq transport and handshake', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('a listener READY carries exactly Socket-Type=ROUTER and an empty Identity (plain raw bytes; CURVE decrypted)', async () => {
    // plain: the READY body read byte for byte off the socket
    const s = await h.server('plain');
    const peer = await RawPeer.connect(s.port);
    h.defer(() => peer.destroy());
    await rawPlainHandshake(peer, 'DEALER', Buffer.from('Lraw'));
    const ready = peer.frames[0]!;
    expect(ready.flags).to.equal(0x04);
    expect(ready.body.subarray(0, 6).toString('latin1')).to.equal('\x05READY');
    expect(rawMetadata(ready.body.subarray(6))).to.deep.equal([
      ['Socket-Type', 'ROUTER'],
      ['Identity', ''],
    ]);
    // CURVE: READY is boxed; the raw DEALER's engine opens it and keeps the properties
    const c = await h.server('curve');
    const d = h.rawDealer('curve', c.endpoint, c.omq.pubkey);
    await waitFor(() => d.dealer.connection !== null, 'CURVE handshake');
    const md = d.dealer.connection!.metadata;
    expect([...md.keys()].sort()).to.deep.equal(['identity', 'socket-type']);
    expect(md.get('socket-type')!.toString()).to.equal('ROUTER');
    expect(md.get('identity')!).to.have.length(0);
  });

  for (const mode of MODES) {
    it(`[${mode}] outgoing Socket-Type=DEALER; Identity "L"‖pubkey (legacy) or empty when ephemeral; our v1.3 default "K"‖keyed hash (CURVE) / "R"‖random`, async () => {
      const router = await h.rawRouter(mode);
      const kp = generateKeypair();
      const connectWith = async (opts: { routingIdFormat?: 'legacy' | 'v1.3'; ephemeralRoutingId?: boolean }, perConn?: boolean) => {
        const c = await h.client({ pubkey: kp.publicKey, privkey: kp.secretKey, ...opts });
        const before = router.connects.length;
        await c.connectRemote(router.address, perConn === undefined ? {} : { ephemeralRoutingId: perConn });
        await waitFor(() => router.connects.length > before, 'router connect');
        const conn = router.connects.at(-1)!;
        expect(conn.metadata.get('socket-type')!.toString()).to.equal('DEALER');
        return conn.identity;
      };
      const legacy = await connectWith({ routingIdFormat: 'legacy' });
      expect(toHex(legacy)).to.equal('4c' + toHex(kp.publicKey));
      expect(await connectWith({ routingIdFormat: 'legacy', ephemeralRoutingId: true })).to.have.length(0);
      expect(await connectWith({ routingIdFormat: 'legacy' }, true)).to.have.length(0);
      const v13a = await connectWith({});
      const v13b = await connectWith({});
      expect(v13a).to.have.length(33);
      if (mode === 'curve') {
        const expected = blake2b(router.keys.publicKey, {
          dkLen: 32,
          key: kp.secretKey,
          personalization: new TextEncoder().encode('omq-routing-id__'),
        });
        expect(toHex(v13a)).to.equal('4b' + toHex(expected));
        expect(v13b).to.deep.equal(v13a); // stable per remote, so handover still works
        const eph = await connectWith({}, true);
        expect(eph[0]).to.equal(0x52);
        expect(eph).to.have.length(33);
      } else {
        expect(v13a[0]).to.equal(0x52);
        expect(v13b[0]).to.equal(0x52);
        expect(v13b).to.not.deep.equal(v13a);
      }
    });
  }

  it('greetings advertise NULL/CURVE, version 3.1 and as-server 0 on both sides (raw sockets)', async () => {
    for (const mode of MODES) {
      // listener side
      const s = await h.server(mode);
      const peer = await RawPeer.connect(s.port);
      h.defer(() => peer.destroy());
      await peer.until(() => peer.greeting !== null, 'listener greeting');
      checkGreeting(peer.greeting!, mode === 'curve' ? 'CURVE' : 'NULL');
      // connecting side
      const srv = await rawServer();
      h.defer(() => srv.close());
      const clock = new ManualClock();
      const c = await h.client({ clock });
      const key = toHex(generateKeypair().publicKey);
      const addr = mode === 'curve' ? `curve://127.0.0.1:${srv.port}/${key}` : `tcp://127.0.0.1:${srv.port}`;
      const pending = rejection(c.connectRemote(addr, { timeout: 200 }));
      const cp = await srv.peer;
      await cp.until(() => cp.greeting !== null, 'client greeting');
      checkGreeting(cp.greeting!, mode === 'curve' ? 'CURVE' : 'NULL');
      clock.advance(200); // the raw peer never answers: let the connect time out
      expect((await pending).message).to.equal('connection attempt timed out');
    }
  });

  it('[curve only] a CURVE client boxing HELLO to the wrong key is disconnected with no application message', async () => {
    let handled = 0;
    const s = await h.server('curve', (o) => o.addCategory('t', AuthLevel.none).addCommand('x', () => handled++));
    // raw: a well-formed 200-byte HELLO whose box cannot be opened
    const peer = await RawPeer.connect(s.port);
    h.defer(() => peer.destroy());
    peer.sendGreeting('CURVE');
    const hello = Buffer.alloc(194);
    hello[0] = 1; // version 1.0
    hello.fill(7, 74); // C', nonce and box: garbage
    peer.sendCommand('HELLO', hello);
    peer.sendMessage('t.x');
    await peer.until(() => peer.closed, 'the listener to drop the connection');
    expect(peer.frames).to.have.length(0); // no WELCOME, no ERROR, no data
    // a real CURVE client with the wrong server key never completes the handshake either
    const wrong = generateKeypair().publicKey;
    const d = h.rawDealer('curve', s.endpoint, wrong);
    let connected = false;
    d.dealer.on('connect', () => (connected = true));
    const failures: ZmtpError[] = [];
    d.dealer.on('connect-failed', (e) => failures.push(e));
    d.send('t.x');
    await waitFor(() => failures.length > 0, 'connect-failed');
    expect(connected).to.equal(false);
    expect(d.received).to.have.length(0);
    expect(handled).to.equal(0);
  });

  it('[curve; plain for contrast] handlers on a CURVE listener see msg.conn.pubkey = the client long-term key', async () => {
    for (const mode of MODES) {
      const seen: Message[] = [];
      const s = await h.server(mode, (o) => o.addCategory('pk', AuthLevel.none).addCommand('who', (m) => void seen.push(m)));
      const kp = generateKeypair();
      const c = await h.client({ pubkey: kp.publicKey, privkey: kp.secretKey });
      const id = await c.connectRemote(s.address);
      c.send(id, 'pk.who');
      await waitFor(() => seen.length === 1, 'handler');
      if (mode === 'curve') expect(toHex(seen[0]!.conn.pubkey)).to.equal(toHex(kp.publicKey));
      else expect(seen[0]!.conn.pubkey).to.have.length(0);
      expect(seen[0]!.conn.isSn).to.equal(false);
    }
  });

  for (const mode of MODES) {
    it(`[${mode}] the ConnectionID from a successful connectRemote carries the server pubkey (curve) or none (plain)`, async () => {
      const s = await h.server(mode);
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      expect(id.valid).to.equal(true);
      expect(id.isSn).to.equal(false);
      expect(toHex(id.pubkey)).to.equal(mode === 'curve' ? toHex(s.omq.pubkey) : '');
      // the callback form: on_connect gets the pubkey, the returned id equals it
      const got = await new Promise<{ ret: ConnectionID; cb: ConnectionID }>((resolve, reject) => {
        const ret = c.connectRemoteCb(
          s.address,
          (cb) => resolve({ ret, cb }),
          (_id, why) => reject(new Error(why)),
        );
      });
      expect(got.cb.equals(got.ret)).to.equal(true);
      expect(toHex(got.cb.pubkey)).to.equal(mode === 'curve' ? toHex(s.omq.pubkey) : '');
    });
  }

  it('[plain wire bytes] PING "04 PING 0000" every 15 s from both sides, PONG echoes the context (manual clock)', async () => {
    // listener side
    const clock = new ManualClock();
    const s = await h.server('plain', () => {}, { clock });
    const peer = await RawPeer.connect(s.port);
    h.defer(() => peer.destroy());
    await rawPlainHandshake(peer, 'DEALER');
    clock.advance(14_999);
    // The listener answers our PING as it reads it, so a PING of its own due by now would come first.
    peer.sendCommand('PING', Buffer.concat([Buffer.from([0, 0]), Buffer.from('ctx')]));
    await peer.until(() => peer.frames.length >= 2, 'PONG');
    expect(peer.frames).to.have.length(2);
    expect(peer.frames[1]!.body).to.deep.equal(Buffer.from('\x04PONGctx', 'latin1'));
    clock.advance(1);
    await peer.until(() => peer.frames.length === 3, 'PING');
    expect(peer.frames[2]!.flags).to.equal(0x04);
    expect(peer.frames[2]!.body.toString('hex')).to.equal('0450494e470000');
    clock.advance(15_000);
    await peer.until(() => peer.frames.length === 4, 'second PING');
    expect(peer.frames[3]!.body.toString('hex')).to.equal('0450494e470000');
    // connecting side
    const srv = await rawServer();
    h.defer(() => srv.close());
    const c = await h.client({ clock });
    const connected = c.connectRemote(`tcp://127.0.0.1:${srv.port}`);
    const cp = await srv.peer;
    await rawPlainHandshake(cp, 'ROUTER');
    await cp.until(() => cp.frames.length === 2, 'HI');
    cp.sendMessage('HELLO');
    await connected;
    clock.advance(15_000);
    await cp.until(() => cp.frames.length === 3, 'client PING');
    expect(cp.frames[2]!.body.toString('hex')).to.equal('0450494e470000');
  });

  it('[curve] boxed PING every 15 s (42-byte MESSAGE frame) and a boxed PONG (40 bytes) answers a PING', async () => {
    const clock = new ManualClock();
    const s = await h.server('curve', () => {}, { clock });
    const peerClock = new ManualClock();
    const d = h.rawDealer('curve', s.endpoint, s.omq.pubkey, { clock: peerClock, heartbeatInterval: 15_000 });
    await waitFor(() => d.dealer.connection !== null, 'CURVE handshake');
    const chunks: Buffer[] = [];
    d.socket.on('data', (b: Buffer) => chunks.push(b));
    const isMessageBox = (b: Buffer) => b[0] === 0x00 && b.subarray(2, 10).toString('latin1') === '\x07MESSAGE'; // neither MORE nor COMMAND on the wire
    clock.advance(14_999);
    // The raw peer pings; the listener answers PONG as it reads it, behind any PING of its own due by now.
    peerClock.advance(15_000);
    await waitFor(() => chunks.length >= 1, 'boxed PONG');
    expect(chunks.map((c) => c.length)).to.deep.equal([40]);
    expect(isMessageBox(chunks[0]!)).to.equal(true);
    clock.advance(1);
    await waitFor(() => chunks.length === 2, 'boxed PING');
    expect(chunks[1]!).to.have.length(42);
    expect(isMessageBox(chunks[1]!)).to.equal(true);
    expect(d.disconnects).to.equal(0);
  });

  for (const mode of MODES) {
    it(`[${mode}] an incoming frame over 1 MiB (CURVE: the boxed frame) drops the connection; at the limit it is delivered`, async () => {
      const got: number[] = [];
      const s = await h.server(mode, (o) => o.addCategory('big', AuthLevel.none).addCommand('x', (m) => void got.push(m.data[0]!.length)));
      const overhead = mode === 'curve' ? 33 : 0;
      const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      d.send('big.x', Buffer.alloc(1024 * 1024 - overhead));
      await waitFor(() => got.length === 1, 'frame at the limit');
      expect(got[0]).to.equal(1024 * 1024 - overhead);
      expect(d.disconnects).to.equal(0);
      const other = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      other.send('big.x', 'small');
      await waitFor(() => got.length === 2, 'other connection');
      d.send('big.x', Buffer.alloc(1024 * 1024 - overhead + 1));
      await waitFor(() => d.disconnects === 1, 'drop');
      // The listener refused the frame at its header and closed; a handler it had admitted would
      // have run (a microtask) before our socket could even see the close.
      expect(got).to.have.length(2);
      other.send('big.x', 'still fine');
      await waitFor(() => got.length === 3, 'other connection unaffected');
      expect(other.disconnects).to.equal(0);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a second connection with the same Identity takes the route over; the first receives nothing further`, async () => {
      const conns: ConnectionID[] = [];
      const s = await h.server(mode, (o) => o.addCategory('h', AuthLevel.none).addCommand('reg', (m) => void conns.push(m.conn)));
      const keys = generateKeypair();
      const identity = Buffer.concat([Buffer.from('L'), keys.publicKey]);
      const d1 = h.rawDealer(mode, s.endpoint, s.omq.pubkey, { identity, keys, reconnectInterval: 60_000 });
      d1.send('h.reg');
      await waitFor(() => conns.length === 1, 'first registration');
      const d2 = h.rawDealer(mode, s.endpoint, s.omq.pubkey, { identity, keys });
      await waitFor(() => d1.disconnects === 1, 'the first connection to be dropped');
      await waitFor(() => d2.dealer.connection !== null, 'second connection');
      s.omq.send(conns[0]!, 'x.ping', 'after handover');
      const m = await d2.nth(1);
      expect(strs(m)).to.deep.equal(['x.ping', 'after handover']);
      expect(d1.received).to.have.length(0);
    });
  }

  it('a denying Allow answers with ERROR "400" (plain: raw bytes, then closed; CURVE: after INITIATE); our connectRemote fails at once (C++ waits for its 10 s connect timeout)', async () => {
    for (const mode of MODES) {
      const s = await h.server(mode, () => {}, { allow: () => AuthLevel.denied });
      if (mode === 'plain') {
        const peer = await RawPeer.connect(s.port);
        h.defer(() => peer.destroy());
        await rawPlainHandshake(peer, 'DEALER').catch(() => {});
        await peer.until(() => peer.frames.length >= 1, 'ERROR');
        expect(peer.frames[0]!.flags).to.equal(0x04);
        expect(peer.frames[0]!.body).to.deep.equal(encodeCommand('ERROR', Buffer.from('\x03400', 'latin1')));
        await peer.until(() => peer.closed, 'close after ERROR');
        expect(peer.frames).to.have.length(1);
      } else {
        const d = h.rawDealer('curve', s.endpoint, s.omq.pubkey);
        const failed: ZmtpError[] = [];
        d.dealer.on('failed', (e) => failed.push(e));
        await waitFor(() => failed.length === 1, 'ERROR');
        expect(failed[0]!.code).to.equal(ZmtpErrorCode.PEER_ERROR);
        expect(failed[0]!.message).to.include('ERROR 400');
      }
      const clock = new ManualClock(); // never advanced: the failure cannot be the 5 s timeout
      const c = await h.client({ clock });
      const err = await rejection(c.connectRemote(s.address, { timeout: 5000 }));
      expect(err.message).to.match(/refused/);
    }
  });

  it('Allow gets "127.0.0.1", the 32-byte client key and sn = key ∈ active set (CURVE); an empty key and sn=false (plain)', async () => {
    for (const mode of MODES) {
      const calls: { addr: string; pk: string; sn: boolean }[] = [];
      const snKeys = generateKeypair();
      const s = await h.server(mode, (o) => o.setActiveSns([snKeys.publicKey]), {
        allow: (addr, pk, sn) => {
          calls.push({ addr, pk: toHex(pk), sn });
          return AuthLevel.none;
        },
      });
      const plainKeys = generateKeypair();
      const a = await h.client({ pubkey: plainKeys.publicKey, privkey: plainKeys.secretKey });
      await a.connectRemote(s.address);
      const b = await h.client({ pubkey: snKeys.publicKey, privkey: snKeys.secretKey });
      await b.connectRemote(s.address);
      expect(calls).to.have.length(2);
      expect(calls.map((c) => c.addr)).to.deep.equal(['127.0.0.1', '127.0.0.1']);
      if (mode === 'curve') {
        expect(calls[0]).to.deep.include({ pk: toHex(plainKeys.publicKey), sn: false });
        expect(calls[1]).to.deep.include({ pk: toHex(snKeys.publicKey), sn: true });
      } else {
        expect(calls.map((c) => [c.pk, c.sn])).to.deep.equal([
          ['', false],
          ['', false],
        ]);
      }
    }
  });

  for (const mode of MODES) {
    it(`[${mode}] without an Allow callback every connection is admitted at auth level none`, async () => {
      const seen: Message[] = [];
      const s = await h.server(mode, (o) => {
        o.addCategory('n', AuthLevel.none).addCommand('x', (m) => void seen.push(m));
        o.addCategory('b', AuthLevel.basic).addRequestCommand('x', (m) => m.sendReply('no'));
      });
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      c.send(id, 'n.x');
      await waitFor(() => seen.length === 1, 'handler');
      expect(seen[0]!.access).to.deep.equal({ auth: AuthLevel.none, remoteSn: false, localSn: false });
      expect((await rejection(c.request(id, 'b.x', [], { timeout: 500 }))).code).to.equal('FORBIDDEN');
    });
  }

  it('listenPlain/listenCurve on inproc:// throw', async () => {
    const o = h.omq();
    expect(() => o.listenPlain('inproc://x')).to.throw(/inproc/);
    expect(() => o.listenCurve('inproc://sn-self')).to.throw(/inproc/);
    await o.start();
    expect(() => o.listenPlain('inproc://x')).to.throw(/inproc/);
    expect(() => o.listenCurve('inproc://x')).to.throw(/inproc/);
  });

  for (const mode of MODES) {
    it(`[${mode}] after start() listen reports onBind(true), and onBind(false) for an address in use`, async () => {
      const o = h.omq();
      echoSetup(o);
      await o.start();
      const listen = (ep: string, cb: (ok: boolean) => void) => (mode === 'curve' ? o.listenCurve(ep, undefined, cb) : o.listenPlain(ep, undefined, cb));
      const binds: boolean[] = [];
      const ep = await listen('tcp://127.0.0.1:0', (ok) => binds.push(ok));
      await waitFor(() => binds.length === 1, 'onBind');
      expect(binds).to.deep.equal([true]);
      const err = await rejection(listen(ep, (ok) => binds.push(ok)));
      expect(err).to.be.instanceOf(Error);
      await waitFor(() => binds.length === 2, 'second onBind');
      expect(binds).to.deep.equal([true, false]);
      // the first listener works
      const c = await h.client();
      const addr = mode === 'curve' ? `curve://127.0.0.1:${portOf(ep)}/${toHex(o.pubkey)}` : ep;
      const id = await c.connectRemote(addr);
      expect(strs(await c.request(id, 't.req', [' world']))).to.deep.equal(['ok', ' world']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] maxSockets 15: 16 connections give exactly one "connect() failed: Too many open files" and no other failure`, async () => {
      const s = await h.server(mode);
      const c = await h.client({ maxSockets: 15, ephemeralRoutingId: true });
      const ok: ConnectionID[] = [];
      const failed: string[] = [];
      for (let i = 0; i < 16; i++) {
        c.connectRemoteCb(
          s.address,
          (id) => ok.push(id),
          (_id, why) => failed.push(why),
        );
      }
      await waitFor(() => ok.length + failed.length === 16, 'all outcomes');
      expect(failed).to.deep.equal(['connect() failed: Too many open files']);
      expect(ok).to.have.length(15);
      expect(new Set(ok.map((i) => i.key)).size).to.equal(15);
    });
  }
});
