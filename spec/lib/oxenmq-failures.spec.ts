/**
 * Failure paths of the OxenMQ core (after upstream tests/test_failures.cpp and test_connect.cpp
 * "connection failures"): unusable addresses from the caller or from snLookup, ids of failed
 * connects, refused and retried connections, sends to our own pubkey over the built-in
 * in-process listener, and races with stale state. Connect timeouts and back-offs run on a
 * ManualClock.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import type { ConnectionID } from '../../lib/connection-id.js';
import { toHex } from '../../lib/oxenc/index.js';
import { OmqErrorCode, type OmqError } from '../../lib/errors.js';
import type { Message } from '../../lib/message.js';
import { ManualClock } from '../../zmtp/clock.js';
import { freePort } from '../helpers/net.js';
import { Harness, MODES, RecordingLogger, rejection, strs, waitFor } from '../helpers/omq.js';

describe('lib/oxenmq failure paths', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('an unusable snLookup address (wildcard host, junk, low-order key) drops the send with queueFailure instead of throwing, and leaves no dead record', async () => {
    const log = new RecordingLogger();
    const target = generateKeypair().publicKey;
    let answer = 'garbage';
    const c = await h.client({ logger: log, snLookup: () => answer });
    const failures: OmqError[] = [];
    for (const a of ['garbage', 'tcp://*:4567']) {
      answer = a;
      expect(() => c.send(target, 'x.y', { queueFailure: (e) => failures.push(e) })).to.not.throw();
    }
    expect(() => c.send(new Uint8Array(32), 'x.y', { queueFailure: (e) => failures.push(e) })).to.not.throw(); // all-zero key
    await waitFor(() => failures.length === 3, 'three queueFailures');
    expect(failures.every((e) => e.code === OmqErrorCode.SEND_FAILED)).to.equal(true);
    expect(log.matching('cannot connect to service node', 'warn')).to.have.length(3);
    // nothing was kept: once a real address is known the next send opens a working connection
    const r = await h.rawRouter('curve', {});
    const c2 = await h.client({ snLookup: () => answer });
    answer = 'tcp://*:1';
    c2.send(r.keys.publicKey, 'x.first', { queueFailure: () => {} });
    answer = r.endpoint;
    c2.send(r.keys.publicKey, 'x.second');
    expect(strs((await r.nth(1)).frames)).to.deep.equal(['x.second']);
  });

  for (const mode of MODES) {
    it(`[${mode}] connectRemote to an unconnectable address rejects "connect() failed: …" at once, leaks no socket slot, and its id is never reused`, async () => {
      const s = await h.server(mode);
      const c = await h.client({ maxSockets: 1, ephemeralRoutingId: true });
      const bad = mode === 'curve' ? `curve://*:4567/${toHex(s.omq.pubkey)}` : 'tcp://*:4567';
      const err = await rejection(c.connectRemote(bad));
      expect(err.code).to.equal(OmqErrorCode.CONNECT_FAILED);
      expect(err.message).to.match(/^connect\(\) failed: /);
      const ids: ConnectionID[] = [];
      const failed = await new Promise<{ id: ConnectionID; why: string }>((resolve) => {
        ids.push(c.connectRemoteCb('not an address', () => {}, (id, why) => resolve({ id, why })));
      });
      expect(failed.why).to.equal('connect() failed: invalid address');
      const good = await c.connectRemote(s.address); // the one socket slot is still free
      expect(good.equals(failed.id)).to.equal(false);
      expect(good.equals(ids[0]!)).to.equal(false);
      const tooMany = await new Promise<{ id: ConnectionID; why: string }>((resolve) => {
        c.connectRemoteCb(s.address, () => {}, (id, why) => resolve({ id, why }));
      });
      expect(tooMany.why).to.equal('connect() failed: Too many open files');
      c.disconnect(good, 0);
      const next = await c.connectRemote(s.address);
      expect(next.equals(tooMany.id)).to.equal(false);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a TCP-refused connectRemote is retried (as libzmq) until its timeout; a listener appearing meanwhile is reached`, async () => {
      const port = await freePort();
      const clock = new ManualClock();
      const c = await h.client({ clock, reconnectInterval: 20, reconnectIntervalMax: 40 });
      const kp = generateKeypair();
      const addr = mode === 'curve' ? `curve://127.0.0.1:${port}/${toHex(kp.publicKey)}` : `tcp://127.0.0.1:${port}`;
      // The only timers on this clock are the cleanup tick and, once an attempt is refused, the
      // reconnect back-off: one more armed timer means "refused, retry scheduled".
      const idle = clock.pending;
      const retryArmed = (what: string) => waitFor(() => clock.pending === idle + 1, what);
      let outcome: string | undefined;
      c.connectRemote(addr, { timeout: 150 }).then(
        () => (outcome = 'connected'),
        (e: Error) => (outcome = e.message),
      );
      await retryArmed('the first refusal');
      clock.advance(20);
      await retryArmed('the second refusal');
      clock.advance(40);
      await retryArmed('the third refusal');
      expect(outcome).to.equal(undefined);
      clock.advance(90);
      await waitFor(() => outcome !== undefined, 'the connect timeout');
      expect(outcome).to.equal('connection attempt timed out');
      expect(clock.pending).to.equal(idle); // the timed-out attempt stops retrying
      const pending = c.connectRemote(addr, { timeout: 3000 });
      await retryArmed('the refusal before the listener exists');
      const s = h.omq({ pubkey: kp.publicKey, privkey: kp.secretKey });
      const bound = mode === 'curve' ? s.listenCurve(`tcp://127.0.0.1:${port}`) : s.listenPlain(`tcp://127.0.0.1:${port}`);
      await s.start();
      await bound;
      clock.advance(40); // the retry
      const id = await pending;
      expect(id.valid).to.equal(true);
    });
  }

  it('disconnect() of a still-pending connectRemote fails it at once (C++ leaves it to fail at its deadline)', async () => {
    const r = await h.rawRouter('plain');
    r.autoHello = false;
    const clock = new ManualClock(); // never advanced: the 5 s deadline cannot pass
    const c = await h.client({ clock });
    let resolveOutcome!: (why: string) => void;
    const outcome = new Promise<string>((resolve) => (resolveOutcome = resolve));
    const id = c.connectRemoteCb(r.address, () => resolveOutcome('connected'), (_id, why) => resolveOutcome(why), { timeout: 5000 });
    expect(strs((await r.nth(1)).frames)).to.deep.equal(['HI']); // connected at the ZMTP level, HELLO withheld
    c.disconnect(id, 0);
    expect(await outcome).to.equal('disconnected before the connection was established');
    await waitFor(() => r.disconnects.length === 1, 'the close');
  });

  it('an SN that is in its own active set can send to its own pubkey after an in-process connection made it known there', async () => {
    const kp = generateKeypair();
    const seen: Message[] = [];
    const o = h.omq({ serviceNode: true, pubkey: kp.publicKey, privkey: kp.secretKey, snLookup: () => undefined });
    o.addCategory('x', AuthLevel.none).addCommand('y', (m) => void seen.push(m));
    await o.start();
    o.setActiveSns([kp.publicKey]);
    const id = await o.connectInproc();
    o.send(id, 'x.y', 'inproc');
    await waitFor(() => seen.length === 1, 'inproc message');
    expect(seen[0]!.conn.isSn).to.equal(true);
    const failures: OmqError[] = [];
    o.send(kp.publicKey, 'x.y', 'by pubkey', { queueFailure: (e) => failures.push(e) });
    await waitFor(() => seen.length === 2 || failures.length > 0, 'delivery or failure');
    expect(failures.map((e) => e.message)).to.deep.equal([]);
    expect(strs(seen[1]!.data)).to.deep.equal(['by pubkey']);
  });
});

describe('lib/oxenmq: a service node that refuses us', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('forgets the refused connection, then redials only after reconnectIntervalMax (no connection per message)', async () => {
    let allowCalls = 0;
    const b = await h.server('curve', () => {}, {
      allow: () => {
        allowCalls++;
        return AuthLevel.denied;
      },
    });
    const clock = new ManualClock();
    const log = new RecordingLogger();
    const a = await h.client({ clock, logger: log, reconnectIntervalMax: 5000, snLookup: () => b.endpoint });
    a.send(b.omq.pubkey, 'x.first');
    await waitFor(() => log.matching(' refused: ', 'warn').length === 1, 'the refusal');
    expect(allowCalls).to.equal(1);
    const failures: OmqError[] = [];
    a.send(b.omq.pubkey, 'x.second', { queueFailure: (e) => failures.push(e) });
    await waitFor(() => failures.length === 1, 'the second send to fail at once');
    expect(allowCalls).to.equal(1); // no new connection while the refusal is fresh
    clock.advance(5000);
    a.send(b.omq.pubkey, 'x.third');
    await waitFor(() => allowCalls === 2, 'a new attempt after reconnectIntervalMax');
  });
});

describe('lib/oxenmq: races and stale state', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('close() during start() stops the listener being bound; its listen promise rejects', async () => {
    const o = h.omq();
    const listening = o.listenPlain('tcp://127.0.0.1:0');
    const started = o.start().catch((e: unknown) => e);
    await o.close(0);
    const err = await rejection(listening);
    expect(err.code).to.equal(OmqErrorCode.CLOSED);
    await started;
  });

  it("a service node's dead incoming routes are forgotten: a send with `incoming` uses the live one", async () => {
    const kS = generateKeypair();
    const kC = generateKeypair();
    const s = await h.server('curve', (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('hello', (m) => m.sendReply()), {
      pubkey: kS.publicKey,
      privkey: kS.secretKey,
      serviceNode: true,
    });
    s.omq.setActiveSns([kC.publicKey]);
    const got: string[] = [];
    const probedVia: number[] = [];
    const c = await h.client({ pubkey: kC.publicKey, privkey: kC.secretKey, serviceNode: true }, (o) =>
      o
        .addCategory('c', AuthLevel.none)
        .addCommand('note', (m) => void got.push(m.data[0]!.toString()))
        .addCommand('probe', (m) => void probedVia.push(m.conn.id)),
    );
    // One lasting connection and two short-lived ones (own routing ids), each used once: the
    // answered request shows the SN has made its incoming record for that connection.
    const live = await c.connectRemote(s.address);
    await c.request(live, 'x.hello');
    const eph = [];
    for (let i = 0; i < 2; i++) {
      const id = await c.connectRemote(s.address, { ephemeralRoutingId: true });
      await c.request(id, 'x.hello');
      eph.push(id);
    }
    for (const id of eph) c.disconnect(id, 0);
    // The SN learns of the closes when its sockets report them, which nothing else shows: probe
    // over its newest incoming route (lost while a dead one is still taken for alive) until a
    // probe arrives over the lasting connection.
    const probeFailures: OmqError[] = [];
    await waitFor(() => {
      s.omq.send(kC.publicKey, 'c.probe', { incoming: true, queueFailure: (e) => probeFailures.push(e) });
      return probedVia.includes(live.id);
    }, 'the SN to route over the lasting connection');
    await new Promise<void>((resolve) => s.omq.job(resolve)); // behind any failure callback
    expect(probeFailures).to.deep.equal([]); // a dead route is skipped, never reported as a failure
    const failures: OmqError[] = [];
    s.omq.send(kC.publicKey, 'c.note', 'over the live route', { incoming: true, queueFailure: (e) => failures.push(e) });
    await waitFor(() => got.length === 1 || failures.length > 0, 'the note or a failure');
    expect(failures).to.deep.equal([]);
    expect(got).to.deep.equal(['over the live route']);
  });

  it('a pending connectRemote keeps the process alive until it settles (no silent exit while retrying)', async () => {
    const port = await freePort();
    const script = `
      const { OxenMQ } = await import(${JSON.stringify(new URL('../../lib/index.js', import.meta.url).href)});
      const omq = new OxenMQ({ reconnectInterval: 20, connCheckInterval: 20 });
      await omq.start();
      try { await omq.connectRemote('tcp://127.0.0.1:${port}', { timeout: 100 }); console.log('connected?'); }
      catch (e) { console.log('rejected: ' + e.message); }
      await omq.close(0);`;
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (c) => resolve({ stdout: out, code: c }));
    });
    expect(code).to.equal(0);
    expect(stdout.trim()).to.equal('rejected: connection attempt timed out');
  });
});
