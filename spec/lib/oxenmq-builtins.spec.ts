/**
 * The built-in messages of the OxenMQ convention (oxen-mq `oxenmq/proxy.cpp`,
 * `proxy_handle_builtin`): HI/HELLO, BYE, REPLY and the error replies, with raw ZMTP
 * DEALER/ROUTER peers on the other end so that the exact frames are seen; plain and CURVE.
 * "Nothing else arrived" is proven with a barrier on the same connection (see the helpers), and
 * timeouts run on a ManualClock.
 */
import { expect } from 'chai';
import { AuthLevel } from '../../lib/auth.js';
import type { ConnectionID } from '../../lib/connection-id.js';
import type { OmqError } from '../../lib/errors.js';
import { ManualClock } from '../../zmtp/clock.js';
import { rawServer } from '../helpers/raw.js';
import { Harness, MODES, RecordingLogger, expectDueIn, flush, rejection, strs, waitFor } from '../helpers/omq.js';

describe('lib/oxenmq built-in messages', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const mode of MODES) {
    it(`[${mode}] a raw DEALER sending [HI] gets exactly one single-frame [HELLO]`, async () => {
      const s = await h.server(mode);
      const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      d.send('HI');
      expect(strs(await d.nth(1))).to.deep.equal(['HELLO']);
      await d.barrier();
      expect(d.received.map(strs)).to.deep.equal([['HELLO']]);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] connectRemote sends [HI] first and succeeds only on [HELLO]; on_connect runs once`, async () => {
      const r = await h.rawRouter(mode);
      r.autoHello = false;
      const c = await h.client();
      const connected: ConnectionID[] = [];
      const failed: string[] = [];
      const id = c.connectRemoteCb(
        r.address,
        (cid) => connected.push(cid),
        (_cid, why) => failed.push(why),
        { timeout: 2000 },
      );
      c.send(id, 'early.cmd', 'queued behind HI');
      const first = await r.nth(1);
      expect(strs(first.frames)).to.deep.equal(['HI']);
      expect(strs((await r.nth(2)).frames)).to.deep.equal(['early.cmd', 'queued behind HI']);
      await r.barrier(first.route); // the client is connected at the ZMTP level and answering
      expect(connected).to.have.length(0);
      r.router.send(first.route, ['HELLO']);
      await waitFor(() => connected.length === 1, 'on_connect');
      expect(connected[0]!.equals(id)).to.equal(true);
      r.router.send(first.route, ['HELLO']);
      await r.barrier(first.route);
      expect(connected).to.have.length(1);
      expect(failed).to.have.length(0);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] no [HELLO] within the connect timeout → on_failure "connection attempt timed out", not before`, async () => {
      const r = await h.rawRouter(mode);
      r.autoHello = false;
      const clock = new ManualClock();
      const c = await h.client({ clock, connCheckInterval: 1 }); // a 1 ms cleanup tick: the deadline to the millisecond
      const outcomes: { ok: boolean; why?: string; id: ConnectionID }[] = [];
      const id = c.connectRemoteCb(
        r.address,
        (cid) => outcomes.push({ ok: true, id: cid }),
        (fid, why) => outcomes.push({ ok: false, why, id: fid }),
        { timeout: 100 },
      );
      expect(strs((await r.nth(1)).frames)).to.deep.equal(['HI']);
      await expectDueIn(clock, 100, () => outcomes.length > 0, 'on_failure');
      expect(outcomes).to.have.length(1);
      expect(outcomes[0]).to.deep.include({ ok: false, why: 'connection attempt timed out' });
      expect(outcomes[0]!.id.equals(id)).to.equal(true);
      // the promise form rejects with the same text
      const second = rejection(c.connectRemote(r.address, { timeout: 50 }));
      await r.nth(2);
      clock.advance(50);
      expect((await second).message).to.equal('connection attempt timed out');
    });
  }

  it('[curve only: SN connections are CURVE] connectSn and implicit sends to an SN never send [HI]', async () => {
    const r = await h.rawRouter('curve');
    const a = await h.client();
    a.connectSn(r.keys.publicKey, { hint: r.endpoint });
    a.send(r.keys.publicKey, 'x.y', 'a');
    const b = await h.client({ snLookup: () => r.endpoint });
    b.send(r.keys.publicKey, 'x.z', 'b');
    // An [HI] would precede the message on its connection, so the first two messages would show it.
    await waitFor(() => r.received.length >= 2, 'both messages');
    expect(r.received.map((m) => strs(m.frames)).sort()).to.deep.equal([
      ['x.y', 'a'],
      ['x.z', 'b'],
    ]);
    expect(r.connects).to.have.length(2);
  });

  for (const mode of MODES) {
    it(`[${mode}] a listener ignores [HELLO] and [BYE] (no reply, connection kept); commands need no [HI]`, async () => {
      const log = new RecordingLogger();
      const s = await h.server(mode, (o) => o.addCategory('t', AuthLevel.none).addCommand('echo', (m) => m.sendBack('t.echoed', ...m.data)), {
        logger: log,
      });
      const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      d.send('HELLO');
      d.send('BYE');
      d.send('BYE', 't.echo');
      d.send('t.echo', '1');
      expect(strs(await d.nth(1))).to.deep.equal(['t.echoed', '1']);
      await d.barrier();
      expect(d.received).to.have.length(1);
      expect(d.disconnects).to.equal(0);
      expect(log.matching('HELLO on a listener', 'warn')).to.have.length(1);
      expect(log.matching('BYE on a listener', 'warn')).to.have.length(2);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] [BYE] on an outgoing connection closes it like disconnect() with linger 0: forgotten and never redialled (C++ closes the socket but leaves a dangling peer record)`, async () => {
      const r = await h.rawRouter(mode);
      const clock = new ManualClock();
      const c = await h.client({ clock, reconnectInterval: 100, reconnectIntervalMax: 1000 });
      const id = await c.connectRemote(r.address);
      const route = r.received[0]!.route;
      r.router.send(route, ['BYE']);
      await waitFor(() => r.disconnects.length === 1, 'the client to close');
      const failures: OmqError[] = [];
      c.send(id, 'x.after', { queueFailure: (e) => failures.push(e) });
      await waitFor(() => failures.length === 1, 'queueFailure');
      expect(failures[0]!.message).to.match(/not a valid outgoing connection/);
      // Well past every reconnect back-off: a dealer kept alive would redial during this advance,
      // before the connection opened next, and with one round trip fewer to make.
      clock.advance(10_000);
      const again = await c.connectRemote(r.address);
      expect(again.equals(id)).to.equal(false);
      expect(r.connects).to.have.length(2);
      expect(r.received.map((m) => strs(m.frames))).to.deep.equal([['HI'], ['HI']]);
    });
  }

  it('disconnect() sends nothing on the wire (plain: raw bytes; CURVE: no frame reaches the raw router)', async () => {
    // plain, raw socket: only READY and HI ever arrive, then the TCP close
    const srv = await rawServer();
    h.defer(() => srv.close());
    const c = await h.client();
    const connected = c.connectRemote(`tcp://127.0.0.1:${srv.port}`);
    const peer = await srv.peer;
    peer.sendGreeting();
    peer.sendReady('ROUTER');
    await peer.until(() => peer.frames.length === 2, 'READY and HI');
    peer.sendMessage('HELLO');
    const id = await connected;
    c.disconnect(id);
    await peer.until(() => peer.closed, 'close');
    expect(peer.frames.map((f) => [f.flags, f.body.toString('latin1')])).to.deep.equal([
      [0x04, peer.frames[0]!.body.toString('latin1')],
      [0x00, 'HI'],
    ]);
    expect(peer.commands()).to.deep.equal(['READY']);
    // CURVE
    const r = await h.rawRouter('curve');
    const id2 = await c.connectRemote(r.address);
    c.disconnect(id2);
    await waitFor(() => r.disconnects.length === 1, 'close');
    expect(r.received.map((m) => strs(m.frames))).to.deep.equal([['HI']]);
  });

  for (const mode of MODES) {
    it(`[${mode}] [REPLY][unknown tag] and a bare [REPLY] are ignored; the pending request still completes`, async () => {
      const log = new RecordingLogger();
      const r = await h.rawRouter(mode);
      const c = await h.client({ logger: log, logLevel: 'debug' });
      const id = await c.connectRemote(r.address);
      const p = c.request(id, 'r.q', ['a'], { timeout: 3000 });
      const req = await r.nth(2);
      expect(strs(req.frames)[0]).to.equal('r.q');
      const tag = req.frames[1]!;
      r.router.send(req.route, ['REPLY', 'unknown-tag', 'x']);
      r.router.send(req.route, ['REPLY']);
      r.router.send(req.route, ['REPLY', Buffer.alloc(0)]);
      let done = false;
      void p.then(() => (done = true));
      await r.requestBarrier(c, id);
      await flush();
      expect(done).to.equal(false);
      r.router.send(req.route, ['REPLY', tag, 'real']);
      expect(strs(await p)).to.deep.equal(['real']);
      // the same tag again is now unknown: ignored
      r.router.send(req.route, ['REPLY', tag, 'again']);
      await r.requestBarrier(c, id);
      expect(log.matching('unknown or expired tag')).to.have.length(3);
      expect(log.lines.filter((l) => l.level === 'error')).to.have.length(0);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a bare [UNKNOWNCOMMAND] is ignored silently; [ERR][REPLY][tag] (exactly 3 frames) fails that request with ERR`, async () => {
      const log = new RecordingLogger();
      const r = await h.rawRouter(mode);
      const c = await h.client({ logger: log });
      const id = await c.connectRemote(r.address);
      const p = c.request(id, 'r.q', [], { timeout: 3000 });
      const req = await r.nth(2);
      const tag = req.frames[1]!;
      r.router.send(req.route, ['UNKNOWNCOMMAND']);
      await r.requestBarrier(c, id);
      expect(log.lines).to.have.length(0);
      r.router.send(req.route, ['UNKNOWNCOMMAND', 'r.q']);
      r.router.send(req.route, ['FORBIDDEN', 'REPLY', tag, 'extra']); // 4 frames: not the reply form
      await r.requestBarrier(c, id);
      expect(log.matching('UNKNOWNCOMMAND', 'warn')).to.have.length(1);
      expect(log.matching('FORBIDDEN', 'warn')).to.have.length(1);
      r.router.send(req.route, ['FORBIDDEN', 'REPLY', tag]);
      const err = await rejection(p);
      expect(err.code).to.equal('FORBIDDEN');
      // callback form: false, [ERR]
      const cb = new Promise<[boolean, string[]]>((resolve) => c.request(id, 'r.q2', (ok, data) => resolve([ok, strs(data)])));
      const req2 = await r.nth(3);
      expect(strs(req2.frames)[0]).to.equal('r.q2');
      r.router.send(req2.route, ['NOT_A_SERVICE_NODE', 'REPLY', req2.frames[1]!]);
      expect(await cb).to.deep.equal([false, ['NOT_A_SERVICE_NODE']]);
    });
  }
});
