/**
 * Replies, requests, timeouts, deferred replies, stored connection IDs, part order and send
 * failures (the service-node cases are in oxenmq-sn.spec.ts), after upstream
 * tests/test_requests.cpp, test_commands.cpp and test_inject.cpp. Plain and CURVE. Timeouts run
 * on a ManualClock; "nothing yet" is checked behind a request answered on the same connection.
 */
import { expect } from 'chai';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import { ConnectionID } from '../../lib/connection-id.js';
import type { OmqError } from '../../lib/errors.js';
import type { DeferredSend } from '../../lib/message.js';
import type { OxenMQ } from '../../lib/index.js';
import { dataParts } from '../../lib/send.js';
import { ManualClock } from '../../zmtp/index.js';
import { freePort } from '../helpers/net.js';
import { Harness, MODES, RecordingLogger, expectDueIn, flush, outcome, rejection, strs, waitFor } from '../helpers/omq.js';
import { nodeBuf } from '../helpers/bytes.js';

const cbRequest = (c: OxenMQ, id: ConnectionID, cmd: string, ...args: (string | object)[]) =>
  new Promise<[boolean, string[]]>((resolve) => c.request(id, cmd, (ok, data) => resolve([ok, strs(data)]), ...(args as string[])));

describe('lib/oxenmq replies, requests, sends', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  for (const mode of MODES) {
    it(`[${mode}] sendReply("123") → callback true, ["123"] (and the promise form resolves ["123"])`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('public', AuthLevel.none).addRequestCommand('hello', (m) => m.sendReply('123')));
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      expect(await cbRequest(c, id, 'public.hello')).to.deep.equal([true, ['123']]);
      expect(strs(await c.request(id, 'public.hello'))).to.deep.equal(['123']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] sendReply("hi", data[0]) to data " world" → ["hi", " world"]; sendReply() → true, []`, async () => {
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
    it(`[${mode}] each request times out at its own deadline (requestTimeout 10 ms in the callback form, timeout 200 ms in the promise form), not a millisecond before`, async () => {
      let reached = 0;
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('silent', () => void reached++));
      const clock = new ManualClock();
      const c = await h.client({ clock, connCheckInterval: 1 }); // a 1 ms cleanup tick: the deadline to the millisecond
      const id = await c.connectRemote(s.address);
      const long = outcome(c.request(id, 'x.silent', [], { timeout: 200 }));
      let short: [boolean, string[]] | undefined;
      c.request(id, 'x.silent', (ok, data) => (short = [ok, strs(data)]), { requestTimeout: 10 });
      await waitFor(() => reached === 2, 'both requests to reach the silent handler');
      await expectDueIn(clock, 10, () => short !== undefined, 'the short timeout');
      expect(short).to.deep.equal([false, ['TIMEOUT']]);
      expect(long()).to.equal(undefined);
      await expectDueIn(clock, 190, () => long() !== undefined, 'the long timeout');
      expect(long()).to.equal('TIMEOUT');
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] the default request timeout is 15 s`, async () => {
      const clock = new ManualClock();
      let reached = false;
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('silent', () => void (reached = true)), { clock, connHeartbeat: 0 });
      const c = await h.client({ clock, connHeartbeat: 0, connCheckInterval: 1 });
      expect(c.defaultRequestTimeout).to.equal(15_000);
      const id = await c.connectRemote(s.address);
      const request = outcome(c.request(id, 'x.silent'));
      await waitFor(() => reached, 'the request to reach the silent handler');
      await expectDueIn(clock, 15_000, () => request() !== undefined, 'the timeout');
      expect(request()).to.equal('TIMEOUT');
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a request that cannot be queued (full queue to an absent peer; a connection refused by Allow) fails at once with ERR_OMQ_SEND_FAILED and the cause, not TIMEOUT`, async () => {
      const clock = new ManualClock(); // never advanced: no deadline can pass in this test
      const c = await h.client({ clock });
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
      const full = await rejection(c.request(id, 'x.req', [], { timeout: 5000 }));
      expect(full.code).to.equal('ERR_OMQ_SEND_FAILED');
      expect((full.cause as { code?: string }).code).to.equal('ERR_OMQ_SEND_FAILED');
      expect((full.cause as { cause?: { code?: string } }).cause?.code).to.equal('ERR_ZMTP_QUEUE_FULL');
      expect(await cbRequest(c, id, 'x.req')).to.deep.equal([false, ['ERR_OMQ_SEND_FAILED']]);
      // refused by the listener's Allow: the connection is gone, requests fail at once
      const s = await h.server(mode, () => {}, { allow: () => AuthLevel.denied });
      let refused!: ConnectionID;
      const why = await new Promise<string>((resolve) => {
        refused = c.connectRemoteCb(
          s.address,
          () => resolve('connected'),
          (_id, reason) => resolve(reason),
        );
      });
      expect(why).to.match(/refused/);
      expect((await rejection(c.request(refused, 'x.req', [], { timeout: 5000 }))).code).to.equal('ERR_OMQ_SEND_FAILED');
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] request tags are 15 bytes and differ`, async () => {
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
      expect(new Set(reqs.map((f) => nodeBuf(f[1]!).toString('hex'))).size).to.equal(20);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] sendLater(): a reply and a send made after the handler returned are delivered then, and nothing before`, async () => {
      let replyLater: (() => void) | undefined;
      let sendLater: (() => void) | undefined;
      const s = await h.server(mode, (o) =>
        o
          .addCategory('d', AuthLevel.none)
          .addRequestCommand('later', (m) => {
            const later = m.sendLater();
            replyLater = () => later.reply('late', m.data[0] ?? '');
          })
          .addCommand('back', (m) => {
            const later: DeferredSend = m.sendLater();
            sendLater = () => later.send('d.backed', 'b');
          })
          .addRequestCommand('sync', (m) => m.sendReply()),
      );
      const got: string[][] = [];
      const c = await h.client({}, (o) => o.addCategory('d', AuthLevel.none).addCommand('backed', (m) => void got.push(strs(m.data))));
      const id = await c.connectRemote(s.address);
      let reply: string[] | undefined;
      const p = c.request(id, 'd.later', ['x'], { timeout: 5000 }).then((d) => (reply = strs(d)));
      c.send(id, 'd.back');
      // Both handlers have returned once this later request is answered, and whatever they had
      // sent would have come first.
      await c.request(id, 'd.sync');
      expect(replyLater).to.be.a('function');
      expect(sendLater).to.be.a('function');
      expect(reply).to.equal(undefined);
      expect(got).to.have.length(0);
      replyLater!();
      await p;
      expect(reply).to.deep.equal(['late', 'x']);
      sendLater!();
      await waitFor(() => got.length === 1, 'the deferred send');
      expect(got[0]).to.deep.equal(['b']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] ConnectionIDs stored from incoming messages reach each of 5 clients after the handlers returned`, async () => {
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
      for (const { conn, name } of stored) s.omq.send(conn, 'personal.details', name, `secret of ${name}`);
      await waitFor(() => inbox.filter(Boolean).length === 5, 'deliveries');
      expect(inbox).to.deep.equal([0, 1, 2, 3, 4].map((i) => [`client${i}`, `secret of client${i}`]));
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] parts, dataParts and unset optionals arrive in order with embedded NULs`, async () => {
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
    it(`[${mode}] 50 sends to a handler answering every other time give 25 answers (plus the earlier one), in order, and no more`, async () => {
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
      // A barrier through the same handlers on both ends: its answer comes after any other.
      c.send(id, 'public.hello');
      await waitFor(() => answers.length >= 27, 'the barrier');
      expect(answers).to.deep.equal(['hello', ...Array.from({ length: 25 }, (_, i) => String(2 * i + 1)), 'hello']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a peer that stops reading: sendBack reports queueFull once maxQueuedBytes (4 MiB) is queued, never within the first 500 × 4 KiB, and never queueFailure (C++ calls queue_full for any non-delivery; we only for a full queue)`, async () => {
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
        { maxQueuedBytes: 4 * 1024 * 1024 },
      );
      const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey);
      await waitFor(() => d.dealer.connection !== null, 'handshake');
      d.socket.pause();
      d.send('x.flood');
      await waitFor(() => sent === 3000, 'the flood');
      // The callbacks are queued on the batch queue as each send fails; a job queued after the
      // flood runs after all of them.
      await new Promise<void>((resolve) => s.omq.job(resolve));
      expect(Math.min(...fulls)).to.be.at.least(500);
      expect(fulls.length).to.be.above(1000);
      expect(failures).to.have.length(0);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] two clients on one listener get distinct, differently keyed Message.conn; default ConnectionIDs are equal and invalid`, async () => {
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
    it(`[${mode}] connectRemote connections are never idle-closed (10 h on a manual clock)`, async () => {
      const clock = new ManualClock();
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('r', (m) => m.sendReply('alive')), { connHeartbeat: 0 });
      const c = await h.client({ clock, connHeartbeat: 0, connCheckInterval: 60_000 });
      const id = await c.connectRemote(s.address);
      for (let i = 0; i < 10; i++) clock.advance(3600_000); // 600 cleanup ticks
      // An idle close would have happened during those advances; the request then fails at once.
      const p = c.request(id, 'x.r');
      expect(strs(await p)).to.deep.equal(['alive']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a server requests from its client over the incoming connection; a reply after the timeout is dropped (upstream test_requests.cpp)`, async () => {
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
      const clock = new ManualClock();
      const s2 = await h.server(mode, (o) => o.addCategory('reg', AuthLevel.none).addCommand('me', (m) => void conns.push(m.conn)), { logger: log, logLevel: 'debug', clock });
      c.send(await c.connectRemote(s2.address), 'reg.me');
      await waitFor(() => conns.length === 1, 'registration');
      const slow = rejection(s2.omq.request(conns[0]!, 'cli.slow', [], { timeout: 30 }));
      await waitFor(() => late !== undefined, 'the client to defer its reply');
      clock.advance(30);
      expect((await slow).code).to.equal('TIMEOUT');
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

  it('injectTask runs in its category under its queue limit, alongside network commands (upstream test_inject.cpp)', async () => {
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
    await flush();
    expect(ran).to.deep.equal([0]); // one slot (G = 1), 3 queued, 2 dropped
    release();
    await waitFor(() => ran.length === 4, 'queued tasks');
    // Injected now, this one queues behind anything still held: the two dropped never come.
    s.omq.injectTask('inj', 'task', 'test#6', () => void ran.push(6));
    await waitFor(() => ran.includes(6), 'a task injected later');
    expect(ran).to.deep.equal([0, 1, 2, 3, 6]);
    const c = await h.client();
    expect(strs(await c.request(await c.connectRemote(s.address), 'inj.net'))).to.deep.equal(['net']);
    expect(() => s.omq.injectTask('nosuch', 'x', 'y', () => {})).to.throw();
  });
});
