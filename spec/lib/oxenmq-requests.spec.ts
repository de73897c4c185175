/**
 * Conformance checklist PROTOCOL.md §8.4 (items 42–52, 54, 59; the SN items 53, 55–58 are in
 * oxenmq-sn.spec.ts): replies, requests, timeouts, deferred replies, stored connection IDs, part
 * order, send failures, plus what upstream tests/test_requests.cpp and test_inject.cpp check beyond
 * the checklist. Plain and CURVE.
 */
import { expect } from 'chai';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import { ConnectionID } from '../../lib/connection-id.js';
import type { OmqError } from '../../lib/errors.js';
import type { DeferredSend } from '../../lib/message.js';
import type { OxenMQ } from '../../lib/oxenmq.js';
import { dataParts } from '../../lib/send.js';
import { ManualClock } from '../../zmtp/index.js';
import { freePort } from '../helpers/net.js';
import { Harness, MODES, RecordingLogger, rejection, settle, sleep, strs, waitFor } from '../helpers/omq.js';

const cbRequest = (c: OxenMQ, id: ConnectionID, cmd: string, ...args: (string | object)[]) =>
  new Promise<[boolean, string[]]>((resolve) => c.request(id, cmd, (ok, data) => resolve([ok, strs(data)]), ...(args as string[])));

describe('lib/oxenmq §8.4 replies, requests, sends', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const mode of MODES) {
    it(`8.4 #42 [${mode}] sendReply("123") → callback true, ["123"]`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('public', AuthLevel.none).addRequestCommand('hello', (m) => m.sendReply('123')));
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      expect(await cbRequest(c, id, 'public.hello')).to.deep.equal([true, ['123']]);
      expect(strs(await c.request(id, 'public.hello'))).to.deep.equal(['123']);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #43 [${mode}] sendReply("hi", data[0]) to data " world" → ["hi", " world"]; sendReply() → true, []`, async () => {
      const s = await h.server(mode, (o) =>
        o
          .addCategory('public', AuthLevel.none)
          .addRequestCommand('hello', (m) => m.sendReply('hi', m.data[0]!))
          .addRequestCommand('empty', (m) => m.sendReply()),
      );
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      expect(await cbRequest(c, id, 'public.hello', ' world')).to.deep.equal([true, ['hi', ' world']]);
      expect(await cbRequest(c, id, 'public.empty')).to.deep.equal([true, []]);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #44 [${mode}] a 10 ms request timeout (connCheckInterval 10) fires TIMEOUT within 100 ms while a 200 ms one has not`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('silent', () => {}));
      const c = await h.client({ connCheckInterval: 10 });
      const id = await c.connectRemote(s.address);
      const t0 = Date.now();
      let longDone = false;
      const long = c.request(id, 'x.silent', [], { timeout: 200 }).finally(() => (longDone = true));
      const short = await new Promise<[boolean, string[]]>((resolve) =>
        c.request(id, 'x.silent', (ok, data) => resolve([ok, strs(data)]), { requestTimeout: 10 }),
      );
      const elapsed = Date.now() - t0;
      expect(short).to.deep.equal([false, ['TIMEOUT']]);
      expect(elapsed).to.be.below(100);
      expect(longDone).to.equal(false);
      expect((await rejection(long)).code).to.equal('TIMEOUT');
      expect(Date.now() - t0).to.be.at.least(195);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #45 [${mode}] the default request timeout is 15 s (manual clock)`, async () => {
      const clock = new ManualClock();
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('silent', () => {}), { clock, connHeartbeat: 0 });
      const c = await h.client({ clock, connHeartbeat: 0 });
      expect(c.defaultRequestTimeout).to.equal(15_000);
      const id = await c.connectRemote(s.address);
      let outcome: string | undefined;
      c.request(id, 'x.silent').then(
        () => (outcome = 'reply'),
        (e: { code: string }) => (outcome = e.code),
      );
      await settle(30); // the request reaches the server and nothing comes back
      clock.advance(14_990);
      await settle(5);
      expect(outcome).to.equal(undefined);
      clock.advance(20);
      await waitFor(() => outcome !== undefined, 'timeout');
      expect(outcome).to.equal('TIMEOUT');
    });
  }

  for (const mode of MODES) {
    it(`8.4 #46 [${mode}] a request that cannot be queued (full queue to an absent peer; a refused connection) fails with TIMEOUT at once`, async () => {
      const c = await h.client();
      const port = await freePort();
      const key = generateKeypair().publicKey;
      const addr = mode === 'curve' ? `curve://127.0.0.1:${port}/${Buffer.from(key).toString('hex')}` : `tcp://127.0.0.1:${port}`;
      const id = c.connectRemoteCb(
        addr,
        () => {},
        () => {},
        { timeout: 5000 },
      );
      for (let i = 0; i < 999; i++) c.send(id, 'x.fill'); // HI + 999 = the 1000-message high-water mark
      const t0 = Date.now();
      expect((await rejection(c.request(id, 'x.req', [], { timeout: 5000 }))).code).to.equal('TIMEOUT');
      expect(await cbRequest(c, id, 'x.req')).to.deep.equal([false, ['TIMEOUT']]);
      expect(Date.now() - t0).to.be.below(100);
      // refused by the listener's Allow: the connection is gone, requests fail at once
      const s = await h.server(mode, () => {}, { allow: () => AuthLevel.denied });
      const refused = c.connectRemoteCb(
        s.address,
        () => {},
        () => {},
      );
      await sleep(100);
      const t1 = Date.now();
      expect((await rejection(c.request(refused, 'x.req', [], { timeout: 5000 }))).code).to.equal('TIMEOUT');
      expect(Date.now() - t1).to.be.below(100);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #47 [${mode}] request tags are 15 bytes (and differ)`, async () => {
      const r = await h.rawRouter(mode);
      const c = await h.client();
      const id = await c.connectRemote(r.address);
      for (let i = 0; i < 20; i++) c.request(id, 'x.tag', ['arg'], { timeout: 100 }).catch(() => {});
      await waitFor(() => r.received.length === 21, 'requests');
      const reqs = r.received.slice(1).map((m) => m.frames);
      for (const f of reqs) {
        expect(f).to.have.length(3);
        expect(f[0]!.toString()).to.equal('x.tag');
        expect(f[1]).to.have.length(15);
        expect(f[2]!.toString()).to.equal('arg');
      }
      expect(new Set(reqs.map((f) => f[1]!.toString('hex'))).size).to.equal(20);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #48 [${mode}] sendLater() replies sent 50 ms after the handler returned are delivered; none within 10 ms`, async () => {
      const s = await h.server(mode, (o) =>
        o
          .addCategory('d', AuthLevel.none)
          .addRequestCommand('later', (m) => {
            const later = m.sendLater();
            setTimeout(() => later.reply('late', m.data[0] ?? ''), 50);
          })
          .addCommand('back', (m) => {
            const later: DeferredSend = m.sendLater();
            setTimeout(() => later.send('d.backed', 'b'), 50);
          }),
      );
      const got: string[][] = [];
      const c = await h.client({}, (o) => o.addCategory('d', AuthLevel.none).addCommand('backed', (m) => void got.push(strs(m.data))));
      const id = await c.connectRemote(s.address);
      const t0 = Date.now();
      let reply: string[] | undefined;
      const p = c.request(id, 'd.later', ['x'], { timeout: 2000 }).then((d) => (reply = strs(d)));
      c.send(id, 'd.back');
      await sleep(10);
      expect(reply).to.equal(undefined);
      expect(got).to.have.length(0);
      await p;
      expect(reply).to.deep.equal(['late', 'x']);
      expect(Date.now() - t0).to.be.at.least(45);
      await waitFor(() => got.length === 1, 'deferred send_back');
      expect(got[0]).to.deep.equal(['b']);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #49 [${mode}] ConnectionIDs stored from incoming messages reach each of 5 clients later`, async () => {
      const stored: { conn: ConnectionID; name: string }[] = [];
      const s = await h.server(mode, (o) => o.addCategory('hey', AuthLevel.none).addCommand('register', (m) => void stored.push({ conn: m.conn, name: m.data[0]!.toString() })));
      const inbox: string[][] = [];
      const clients: OxenMQ[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await h.client({}, (o) => o.addCategory('personal', AuthLevel.none).addCommand('details', (m) => void (inbox[i] = strs(m.data))));
        clients.push(c);
        c.send(await c.connectRemote(s.address), 'hey.register', `client${i}`);
      }
      await waitFor(() => stored.length === 5, 'registrations');
      await sleep(20);
      for (const { conn, name } of stored) s.omq.send(conn, 'personal.details', name, `secret of ${name}`);
      await waitFor(() => inbox.filter(Boolean).length === 5, 'deliveries');
      expect(inbox).to.deep.equal([0, 1, 2, 3, 4].map((i) => [`client${i}`, `secret of client${i}`]));
    });
  }

  for (const mode of MODES) {
    it(`8.4 #50 [${mode}] parts, dataParts and unset optionals arrive in order with embedded NULs`, async () => {
      const seen: string[][] = [];
      const s = await h.server(mode, (o) => o.addCategory('public', AuthLevel.none).addCommand('hello', (m) => void seen.push(strs(m.data))));
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      const opt1: string | undefined = 'o1';
      const opt2: string | undefined = undefined;
      const opt3: string | null = null;
      const opt4: string | undefined = 'o4';
      c.send(id, 'public.hello', 'hi', dataParts(['a', 'b', '\0']), 'another', 'string', dataParts([Buffer.from('abc'), 'def', 'omg123\0zzz']), opt1, opt2, opt3, opt4);
      await waitFor(() => seen.length === 1, 'message');
      expect(seen[0]).to.deep.equal(['hi', 'a', 'b', '\0', 'another', 'string', 'abc', 'def', 'omg123\0zzz', 'o1', 'o4']);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #51 [${mode}] 50 sends to a handler answering every other time give 25 answers (plus the earlier one), in order`, async () => {
      const s = await h.server(mode, (o) =>
        o
          .addCategory('public', AuthLevel.none)
          .addCommand('hello', (m) => m.sendBack('client.hi', 'hello'))
          .addCommand('count', (m) => {
            const n = Number(m.data[0]!.toString());
            if (n % 2 === 1) m.sendBack('client.answer', String(n));
          }),
      );
      const answers: string[] = [];
      const c = await h.client({}, (o) =>
        o
          .addCategory('client', AuthLevel.none)
          .addCommand('hi', (m) => void answers.push(m.data[0]!.toString()))
          .addCommand('answer', (m) => void answers.push(m.data[0]!.toString())),
      );
      const id = await c.connectRemote(s.address);
      c.send(id, 'public.hello');
      await waitFor(() => answers.length === 1, 'hello');
      for (let i = 0; i < 50; i++) c.send(id, 'public.count', String(i));
      await waitFor(() => answers.length === 26, '25 answers');
      await settle(30);
      expect(answers).to.deep.equal(['hello', ...Array.from({ length: 25 }, (_, i) => String(2 * i + 1))]);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #52 [${mode}] a peer that stops reading: sendBack reports queueFull eventually, never within the first 500 × 4 KiB (ours: queueFull only for a full queue)`, async () => {
      const fulls: number[] = [];
      const failures: OmqError[] = [];
      let sent = 0;
      const s = await h.server(mode, (o) =>
        o.addCategory('x', AuthLevel.none).addCommand('flood', (m) => {
          const chunk = Buffer.alloc(4096, 1);
          for (let i = 0; i < 3000; i++) {
            m.sendBack('x.data', chunk, { queueFull: () => fulls.push(i), queueFailure: (e) => failures.push(e) });
            sent++;
          }
        }),
      );
      const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      await waitFor(() => d.dealer.connection !== null, 'handshake');
      d.socket.pause();
      d.send('x.flood');
      await waitFor(() => sent === 3000, 'the flood');
      await waitFor(() => fulls.length > 0, 'queueFull');
      await settle(30);
      expect(Math.min(...fulls)).to.be.at.least(500);
      expect(fulls.length).to.be.above(1000);
      expect(failures).to.have.length(0);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #54 [${mode}] two clients on one listener get distinct, differently keyed Message.conn; default ConnectionIDs are equal and invalid`, async () => {
      const conns: ConnectionID[] = [];
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addCommand('hi', (m) => void conns.push(m.conn)));
      for (let i = 0; i < 2; i++) {
        const c = await h.client();
        c.send(await c.connectRemote(s.address), 'x.hi');
      }
      await waitFor(() => conns.length === 2, 'both');
      const [a, b] = conns as [ConnectionID, ConnectionID];
      expect(a.equals(b)).to.equal(false);
      expect(a.key).to.not.equal(b.key);
      expect(a.id).to.equal(b.id); // same listener, different routes
      expect(a.valid && b.valid).to.equal(true);
      const d1 = new ConnectionID();
      const d2 = new ConnectionID();
      expect(d1.equals(d2)).to.equal(true);
      expect(d1.key).to.equal(d2.key);
      expect(d1.valid).to.equal(false);
    });
  }

  for (const mode of MODES) {
    it(`8.4 #59 [${mode}] connectRemote connections are never idle-closed (manual clock, 10 h)`, async () => {
      const clock = new ManualClock();
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('r', (m) => m.sendReply('alive')), { connHeartbeat: 0 });
      const c = await h.client({ clock, connHeartbeat: 0, connCheckInterval: 60_000 });
      const id = await c.connectRemote(s.address);
      for (let i = 0; i < 10; i++) clock.advance(3600_000); // 600 cleanup ticks
      await settle(20);
      const p = c.request(id, 'x.r');
      expect(strs(await p)).to.deep.equal(['alive']);
    });
  }

  for (const mode of MODES) {
    it(`test_requests [${mode}]: a server requests from its client over the incoming connection; a reply after the timeout is dropped`, async () => {
      const log = new RecordingLogger();
      const s = await h.server(mode, (o) =>
        o.addCategory('srv', AuthLevel.none).addRequestCommand('ask', async (m) => {
          const answer = await m.sendRequest('cli.question', ['6x7'], { timeout: 1000 });
          m.sendReply('client said', ...answer);
        }),
      );
      let late: (() => void) | undefined;
      const c = await h.client({ logger: log, logLevel: 'debug' }, (o) =>
        o
          .addCategory('cli', AuthLevel.none)
          .addRequestCommand('question', (m) => m.sendReply('42', m.data[0]!))
          .addRequestCommand('slow', (m) => {
            const later = m.sendLater();
            late = () => later.reply('too late');
          }),
      );
      const id = await c.connectRemote(s.address);
      expect(strs(await c.request(id, 'srv.ask', [], { timeout: 2000 }))).to.deep.equal(['client said', '42', '6x7']);
      // the reverse direction with a late reply: TIMEOUT first, the reply is then dropped
      const conns: ConnectionID[] = [];
      const s2 = await h.server(mode, (o) => o.addCategory('reg', AuthLevel.none).addCommand('me', (m) => void conns.push(m.conn)), { logger: log, logLevel: 'debug' });
      c.send(await c.connectRemote(s2.address), 'reg.me');
      await waitFor(() => conns.length === 1, 'registration');
      expect((await rejection(s2.omq.request(conns[0]!, 'cli.slow', [], { timeout: 30 }))).code).to.equal('TIMEOUT');
      late!();
      await waitFor(() => log.matching('unknown or expired tag').length === 1, 'the late reply to be dropped');
    });
  }

  for (const mode of MODES) {
    it(`Message.remote [${mode}]: the peer IP on both ends of a TCP connection, "(unknown)" in process`, async () => {
      const remotes: string[] = [];
      const setup = (o: OxenMQ) => o.addCategory('x', AuthLevel.none).addCommand('r', (m) => void remotes.push(m.remote)).addCommand('bounce', (m) => m.sendBack('x.r'));
      const s = await h.server(mode, setup);
      const c = await h.client({}, setup);
      const id = await c.connectRemote(s.address);
      c.send(id, 'x.r');
      c.send(id, 'x.bounce'); // the server's x.r arrives on the client's outgoing connection
      await waitFor(() => remotes.length === 2, 'both');
      const inproc = await s.omq.connectInproc();
      s.omq.send(inproc, 'x.bounce');
      await waitFor(() => remotes.length === 3, 'in process');
      expect(remotes).to.deep.equal(['127.0.0.1', '127.0.0.1', '(unknown)']);
    });
  }

  it('test_inject: injectTask runs in its category under its queue limit, alongside network commands', async () => {
    const s = await h.server('plain', (o) => o.addCategory('inj', AuthLevel.none, 0, 3).addRequestCommand('net', (m) => m.sendReply('net')), { generalThreads: 1 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ran: number[] = [];
    for (let i = 0; i < 6; i++) {
      s.omq.injectTask('inj', 'task', `test#${i}`, async () => {
        ran.push(i);
        await gate;
      });
    }
    await settle(10);
    expect(ran).to.deep.equal([0]); // one slot (G = 1), 3 queued, 2 dropped
    release();
    await waitFor(() => ran.length === 4, 'queued tasks');
    await settle(20);
    expect(ran).to.deep.equal([0, 1, 2, 3]);
    const c = await h.client();
    expect(strs(await c.request(await c.connectRemote(s.address), 'inj.net'))).to.deep.equal(['net']);
    expect(() => s.omq.injectTask('nosuch', 'x', 'y', () => {})).to.throw();
  });
});
