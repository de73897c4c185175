/**
 * Command dispatch as oxen-mq does it (`oxenmq/worker.cpp` proxy_to_worker, `oxenmq/auth.cpp`
 * proxy_check_auth): lookup, the checks in their exact order and the two shapes of error reply, seen on the wire by raw DEALERs;
 * request-side outcomes TS ↔ TS; plus bad input at this layer (huge and unknown built-in command
 * names, a flood into a full category). Plain and CURVE wherever both apply. Request timeouts
 * run on a ManualClock.
 */
import { expect } from 'chai';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import type { ConnectionID } from '../../lib/connection-id.js';
import { toHex } from '../../lib/oxenc/index.js';
import { OmqErrorCode } from '../../lib/errors.js';
import type { Message } from '../../lib/message.js';
import type { OxenMQ } from '../../lib/index.js';
import { ManualClock } from '../../zmtp/clock.js';
import { Harness, MODES, type Mode, RecordingLogger, expectDueIn, flush, outcome, rejection, strs, waitFor } from '../helpers/omq.js';

/** Allow callback handing out `levels` to successive connections. */
function successive(...levels: AuthLevel[]) {
  let i = 0;
  return () => levels[Math.min(i++, levels.length - 1)]!;
}

describe('lib/oxenmq dispatch and errors', function () {
  const h = new Harness();
  afterEach(() => h.closeAll());

  /** A raw dealer that has completed its handshake (so Allow ran in connection order). */
  async function dealer(mode: Mode, s: { endpoint: string; omq: OxenMQ }, keys?: ReturnType<typeof generateKeypair>) {
    const d = h.rawDealer(mode, s.endpoint, s.omq.pubkey, keys ? { keys } : {});
    await waitFor(() => d.dealer.connection !== null, 'handshake');
    return d;
  }

  for (const mode of MODES) {
    it(`[${mode}] a command the server does not have ([a.a], [b.a] of a known category, no dot, empty category) → [UNKNOWNCOMMAND][cmd]`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('b', AuthLevel.none).addCommand('b', () => {}));
      const d = await dealer(mode, s);
      d.send('a.a');
      d.send('b.a', 'x');
      d.send('nodot');
      d.send('.b');
      expect(strs(await d.nth(1))).to.deep.equal(['UNKNOWNCOMMAND', 'a.a']);
      expect(strs(await d.nth(2))).to.deep.equal(['UNKNOWNCOMMAND', 'b.a']);
      expect(strs(await d.nth(3))).to.deep.equal(['UNKNOWNCOMMAND', 'nodot']);
      expect(strs(await d.nth(4))).to.deep.equal(['UNKNOWNCOMMAND', '.b']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a request command without a tag frame → [NO_REPLY_TAG][x.r]; [x.r][foo] → [REPLY][foo][a]`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('x', AuthLevel.none).addRequestCommand('r', (m) => m.sendReply('a')));
      const d = await dealer(mode, s);
      d.send('x.r');
      expect(strs(await d.nth(1))).to.deep.equal(['NO_REPLY_TAG', 'x.r']);
      d.send('x.r', 'foo');
      expect(strs(await d.nth(2))).to.deep.equal(['REPLY', 'foo', 'a']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a category above the connection's auth level answers [FORBIDDEN][cmd] (none/basic/admin connections) and nothing else`, async () => {
      const s = await h.server(
        mode,
        (o) => {
          o.addCategory('x', AuthLevel.basic).addCommand('x', (m) => m.sendBack('a'));
          o.addCategory('y', AuthLevel.admin).addCommand('x', (m) => m.sendBack('b'));
          o.addCategory('z', AuthLevel.none).addRequestCommand('sync', (m) => m.sendReply());
        },
        { allow: successive(AuthLevel.none, AuthLevel.basic, AuthLevel.admin) },
      );
      const ds = [await dealer(mode, s), await dealer(mode, s), await dealer(mode, s)];
      for (const d of ds) {
        d.send('x.x');
        d.send('y.x');
      }
      const got = await Promise.all(ds.map(async (d) => (await Promise.all([d.nth(1), d.nth(2)])).map((m) => strs(m).join('|')).sort()));
      expect(got).to.deep.equal([
        ['FORBIDDEN|x.x', 'FORBIDDEN|y.x'],
        ['FORBIDDEN|y.x', 'a'],
        ['a', 'b'],
      ]);
      for (const d of ds) await d.handlerBarrier('z.sync');
      expect(ds.map((d) => d.received.length)).to.deep.equal([2, 2, 2]);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a local_sn category on a non-SN → [NOT_A_SERVICE_NODE][x.x] / [NOT_A_SERVICE_NODE][REPLY][xyz123]; served by an SN`, async () => {
      const setup = (o: OxenMQ) =>
        o
          .addCategory('x', { auth: AuthLevel.none, localSn: true })
          .addCommand('x', (m) => m.sendBack('ran'))
          .addRequestCommand('r', (m) => m.sendReply('ran'));
      const s = await h.server(mode, setup);
      const d = await dealer(mode, s);
      d.send('x.x');
      expect(strs(await d.nth(1))).to.deep.equal(['NOT_A_SERVICE_NODE', 'x.x']);
      d.send('x.r', 'xyz123');
      expect(strs(await d.nth(2))).to.deep.equal(['NOT_A_SERVICE_NODE', 'REPLY', 'xyz123']);
      const kp = generateKeypair();
      const sn = await h.server(mode, setup, { serviceNode: true, pubkey: kp.publicKey, privkey: kp.secretKey });
      const d2 = await dealer(mode, sn);
      d2.send('x.r', 'xyz123');
      expect(strs(await d2.nth(1))).to.deep.equal(['REPLY', 'xyz123', 'ran']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a remote_sn category from a non-SN peer → [FORBIDDEN_SN][x.x] / [FORBIDDEN_SN][REPLY][xyz123]`, async () => {
      const s = await h.server(mode, (o) =>
        o
          .addCategory('x', { auth: AuthLevel.none, remoteSn: true })
          .addCommand('x', (m) => m.sendBack('ran'))
          .addRequestCommand('r', (m) => m.sendReply('ran')),
      );
      const d = await dealer(mode, s);
      d.send('x.x');
      expect(strs(await d.nth(1))).to.deep.equal(['FORBIDDEN_SN', 'x.x']);
      d.send('x.r', 'xyz123');
      expect(strs(await d.nth(2))).to.deep.equal(['FORBIDDEN_SN', 'REPLY', 'xyz123']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] the checks run in the C++ order: unknown command, auth level, local SN, remote SN, missing tag`, async () => {
      const all = { auth: AuthLevel.admin, localSn: true, remoteSn: true };
      const setup = (o: OxenMQ) => {
        o.addCategory('a', all).addRequestCommand('r', (m) => m.sendReply('ran'));
        o.addCategory('l', { auth: AuthLevel.admin, localSn: true }).addRequestCommand('r', (m) => m.sendReply('ran'));
      };
      const last = (d: Awaited<ReturnType<typeof dealer>>) => strs(d.received.at(-1)!);
      // non-SN instance: a basic peer is stopped by auth before the SN checks; an admin one by local SN
      const s = await h.server(mode, setup, { allow: successive(AuthLevel.basic, AuthLevel.admin) });
      const basic = await dealer(mode, s);
      basic.send('a.nope');
      expect(strs(await basic.nth(1))).to.deep.equal(['UNKNOWNCOMMAND', 'a.nope']);
      basic.send('a.r');
      await basic.nth(2);
      expect(last(basic)).to.deep.equal(['FORBIDDEN', 'a.r']);
      const admin = await dealer(mode, s);
      admin.send('a.r');
      await admin.nth(1);
      expect(last(admin)).to.deep.equal(['NOT_A_SERVICE_NODE', 'a.r']);
      // SN instance: local SN passes, the non-SN peer is stopped by remote SN; then the missing tag
      const kp = generateKeypair();
      const peerKeys = generateKeypair();
      const sn = await h.server(mode, setup, { serviceNode: true, pubkey: kp.publicKey, privkey: kp.secretKey, allow: () => AuthLevel.admin });
      const p = await dealer(mode, sn, peerKeys);
      p.send('a.r');
      await p.nth(1);
      expect(last(p)).to.deep.equal(['FORBIDDEN_SN', 'a.r']);
      p.send('l.r');
      await p.nth(2);
      expect(last(p)).to.deep.equal(['NO_REPLY_TAG', 'l.r']);
      if (mode === 'curve') {
        sn.omq.updateActiveSns([peerKeys.publicKey], []);
        p.send('a.r');
        await p.nth(3);
        expect(last(p)).to.deep.equal(['NO_REPLY_TAG', 'a.r']);
        p.send('a.r', 't');
        await p.nth(4);
        expect(last(p)).to.deep.equal(['REPLY', 't', 'ran']);
      }
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a request to an unknown command is answered [UNKNOWNCOMMAND][cmd], not the REPLY form, so the requester times out, as in C++`, async () => {
      const s = await h.server(mode);
      const d = await dealer(mode, s);
      d.send('nope.x', 'xyz123', 'arg');
      expect(strs(await d.nth(1))).to.deep.equal(['UNKNOWNCOMMAND', 'nope.x']);
      const clock = new ManualClock();
      const log = new RecordingLogger();
      const c = await h.client({ clock, logger: log, connCheckInterval: 1 }); // a 1 ms cleanup tick: the deadline to the millisecond
      const id = await c.connectRemote(s.address);
      const request = outcome(c.request(id, 'nope.x', ['a'], { timeout: 100 }));
      // The answer arrives and is only logged; the request stays pending until its deadline.
      await waitFor(() => log.matching('UNKNOWNCOMMAND for "nope.x"', 'warn').length === 1, 'the UNKNOWNCOMMAND answer');
      await expectDueIn(clock, 100, () => request() !== undefined, 'the timeout');
      expect(request()).to.equal('TIMEOUT');
      let cb: [boolean, string[]] | undefined;
      c.request(id, 'nope.y', (ok, data) => (cb = [ok, strs(data)]), { requestTimeout: 50 });
      await waitFor(() => log.matching('UNKNOWNCOMMAND for "nope.y"', 'warn').length === 1, 'the second UNKNOWNCOMMAND answer');
      await expectDueIn(clock, 50, () => cb !== undefined, 'the callback');
      expect(cb).to.deep.equal([false, ['TIMEOUT']]);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a request to a plain (add_command) command runs it with the tag as data[0]; with no reply it times out`, async () => {
      const seen: Message[] = [];
      const s = await h.server(mode, (o) => {
        o.addCategory('p', AuthLevel.none).addCommand('c', (m) => void seen.push(m));
        o.addCategory('q', AuthLevel.none).addRequestCommand('sync', (m) => m.sendReply());
      });
      const clock = new ManualClock();
      const c = await h.client({ clock });
      const id = await c.connectRemote(s.address);
      const err = rejection(c.request(id, 'p.c', ['arg'], { timeout: 100 }));
      await waitFor(() => seen.length === 1, 'the handler');
      // A later request is answered, so any answer to the first would have come before it.
      await c.request(id, 'q.sync');
      let settled = false;
      void err.then(() => (settled = true));
      await flush();
      expect(settled).to.equal(false);
      clock.advance(100);
      expect((await err).code).to.equal('TIMEOUT');
      expect(seen).to.have.length(1);
      expect(seen[0]!.data).to.have.length(2);
      expect(seen[0]!.data[0]).to.have.length(15);
      expect(seen[0]!.data[1]!.toString()).to.equal('arg');
      expect(seen[0]!.replyTag).to.equal(undefined);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] requests fail with FORBIDDEN / NOT_A_SERVICE_NODE / FORBIDDEN_SN from the [ERR][REPLY][tag] answers`, async () => {
      const s = await h.server(mode, (o) => {
        o.addCategory('b', AuthLevel.basic).addRequestCommand('r', (m) => m.sendReply('x'));
        o.addCategory('l', { auth: AuthLevel.none, localSn: true }).addRequestCommand('r', (m) => m.sendReply('x'));
        o.addCategory('s', { auth: AuthLevel.none, remoteSn: true }).addRequestCommand('r', (m) => m.sendReply('x'));
      });
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      const codes = await Promise.all(['b.r', 'l.r', 's.r'].map(async (cmd) => (await rejection(c.request(id, cmd, [], { timeout: 2000 }))).code));
      expect(codes).to.deep.equal(['FORBIDDEN', 'NOT_A_SERVICE_NODE', 'FORBIDDEN_SN']);
      const cb = await new Promise<[boolean, string[]]>((resolve) => c.request(id, 'b.r', (ok, data) => resolve([ok, strs(data)])));
      expect(cb).to.deep.equal([false, ['FORBIDDEN']]);
    });
  }

  it('[curve only: plain peers have no key] updateActiveSns makes the next request on the same connection pass remote_sn, removal fails it again', async () => {
    const s = await h.server('curve', (o) =>
      o.addCategory('sn', { auth: AuthLevel.none, remoteSn: true }).addRequestCommand('r', (m) => m.sendReply(m.conn.isSn ? 'as-sn' : 'not-sn')),
    );
    const kp = generateKeypair();
    const c = await h.client({ pubkey: kp.publicKey, privkey: kp.secretKey });
    const id = await c.connectRemote(s.address);
    expect((await rejection(c.request(id, 'sn.r', [], { timeout: 2000 }))).code).to.equal('FORBIDDEN_SN');
    s.omq.updateActiveSns([kp.publicKey], []);
    expect(strs(await c.request(id, 'sn.r', [], { timeout: 2000 }))).to.deep.equal(['as-sn']);
    s.omq.updateActiveSns([], [kp.publicKey]);
    expect((await rejection(c.request(id, 'sn.r', [], { timeout: 2000 }))).code).to.equal('FORBIDDEN_SN');
    s.omq.setActiveSns([toHex(kp.publicKey)]);
    expect(strs(await c.request(id, 'sn.r', [], { timeout: 2000 }))).to.deep.equal(['as-sn']);
  });

  for (const mode of MODES) {
    it(`[${mode}] public.client.pubkey dispatches to command "client.pubkey" of category "public" (split at the first dot)`, async () => {
      const s = await h.server(mode, (o) => o.addCategory('public', AuthLevel.none).addRequestCommand('client.pubkey', (m) => m.sendReply(toHex(m.conn.pubkey))));
      const kp = generateKeypair();
      const c = await h.client({ pubkey: kp.publicKey, privkey: kp.secretKey });
      const id = await c.connectRemote(s.address);
      expect(strs(await c.request(id, 'public.client.pubkey', [], { timeout: 2000 }))).to.deep.equal([mode === 'curve' ? toHex(kp.publicKey) : '']);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a command over 251 bytes is UNKNOWNCOMMAND (even as an alias); an empty first frame gives [UNKNOWNCOMMAND][""]`, async () => {
      const cat = 'c'.repeat(50);
      const cmd = 'd'.repeat(200);
      const s = await h.server(mode, (o) => {
        o.addCategory(cat, AuthLevel.none).addCommand(cmd, (m) => m.sendBack('ok251'));
        o.addCommandAlias('a'.repeat(251), `${cat}.${cmd}`);
        o.addCommandAlias('a'.repeat(252), `${cat}.${cmd}`);
      });
      const d = await dealer(mode, s);
      d.send(`${cat}.${cmd}`);
      expect(strs(await d.nth(1))).to.deep.equal(['ok251']);
      d.send('a'.repeat(251));
      expect(strs(await d.nth(2))).to.deep.equal(['ok251']);
      d.send('a'.repeat(252));
      expect(strs(await d.nth(3))).to.deep.equal(['UNKNOWNCOMMAND', 'a'.repeat(252)]);
      d.send('');
      expect(strs(await d.nth(4))).to.deep.equal(['UNKNOWNCOMMAND', '']);
      const huge = Buffer.alloc(100_000, 0x41);
      d.send(huge, 'tag');
      const m = await d.nth(5);
      expect(strs(m)[0]).to.equal('UNKNOWNCOMMAND');
      expect(m[1]).to.deep.equal(huge);
      expect(d.disconnects).to.equal(0);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] alias old.name → public.req runs under public's access rules; errors echo "old.name"`, async () => {
      const s = await h.server(
        mode,
        (o) => {
          o.addCategory('public', AuthLevel.basic).addRequestCommand('req', (m) => m.sendReply('ok', ...m.data));
          o.addCommandAlias('old.name', 'public.req');
          o.addCommandAlias('nodot', 'public.req');
        },
        { allow: successive(AuthLevel.none, AuthLevel.basic) },
      );
      const none = await dealer(mode, s);
      const basic = await dealer(mode, s);
      none.send('old.name');
      expect(strs(await none.nth(1))).to.deep.equal(['FORBIDDEN', 'old.name']);
      none.send('old.name', 'tag0');
      expect(strs(await none.nth(2))).to.deep.equal(['FORBIDDEN', 'REPLY', 'tag0']);
      basic.send('old.name');
      expect(strs(await basic.nth(1))).to.deep.equal(['NO_REPLY_TAG', 'old.name']);
      basic.send('old.name', 'tag1', 'x');
      expect(strs(await basic.nth(2))).to.deep.equal(['REPLY', 'tag1', 'ok', 'x']);
      basic.send('nodot', 'tag2');
      expect(strs(await basic.nth(3))).to.deep.equal(['REPLY', 'tag2', 'ok']);
    });
  }

  it('registration: category 1–50 bytes without ".", command ≤ 200, duplicates, aliases, and anything after start() throw', async () => {
    const o = h.omq();
    const reg = (fn: () => unknown) => expect(fn).to.throw().with.property('code', OmqErrorCode.REGISTRATION);
    reg(() => o.addCategory('', AuthLevel.none));
    reg(() => o.addCategory('a.b', AuthLevel.none));
    reg(() => o.addCategory('x'.repeat(51), AuthLevel.none));
    o.addCategory('x'.repeat(50), AuthLevel.none);
    const c = o.addCategory('cat', AuthLevel.none);
    reg(() => o.addCategory('cat', AuthLevel.basic));
    c.addCommand('y'.repeat(200), () => {});
    reg(() => c.addCommand('z'.repeat(201), () => {}));
    c.addCommand('cmd', () => {});
    reg(() => c.addCommand('cmd', () => {}));
    reg(() => c.addRequestCommand('cmd', () => {}));
    reg(() => o.addCommand('nosuch', 'cmd', () => {}));
    c.addCommand('', () => {}); // empty command names are accepted, as C++ add_command (oxenmq/oxenmq.cpp) checks only the length
    reg(() => o.addCommandAlias('cat.cmd', 'cat.other')); // shadows a command
    reg(() => o.addCommandAlias('', 'cat.cmd'));
    reg(() => o.addCommandAlias('.x', 'cat.cmd'));
    reg(() => o.addCommandAlias('x', 'nodot'));
    reg(() => o.addCommandAlias('x', '.cmd'));
    o.addCommandAlias('old.cmd', 'cat.cmd');
    reg(() => o.addCommandAlias('old.cmd', 'cat.cmd'));
    o.addCommandAlias('cat.later', 'cat.cmd');
    reg(() => c.addCommand('later', () => {})); // collides with an alias
    await o.start();
    const late = (fn: () => unknown) => expect(fn).to.throw().with.property('code', OmqErrorCode.INVALID_STATE);
    late(() => o.addCategory('new', AuthLevel.none));
    late(() => c.addCommand('new', () => {}));
    late(() => o.addCommandAlias('new.x', 'cat.cmd'));
  });

  for (const mode of MODES) {
    it(`[${mode}] commands over an outgoing connectRemote connection get its authLevel (none/basic/admin ⇒ 1/2/3 probes accepted)`, async () => {
      const s = await h.server(mode, (o) =>
        o
          .addCategory('r', AuthLevel.none)
          .addCommand('probe', (m) => {
            for (const c of ['public.hi', 'basic.hi', 'admin.hi']) m.sendBack(c);
          })
          .addCommand('sync', (m) => m.sendBack('public.synced')),
      );
      const counts = new Map<number, number>();
      const synced = new Set<number>();
      const count = (m: Message) => counts.set(m.conn.id, (counts.get(m.conn.id) ?? 0) + 1);
      const c = await h.client({ ephemeralRoutingId: true }, (o) => {
        o.addCategory('public', AuthLevel.none)
          .addCommand('hi', count)
          .addCommand('synced', (m) => void synced.add(m.conn.id));
        o.addCategory('basic', AuthLevel.basic).addCommand('hi', count);
        o.addCategory('admin', AuthLevel.admin).addCommand('hi', count);
      });
      const ids: ConnectionID[] = [];
      for (const authLevel of [AuthLevel.none, AuthLevel.basic, AuthLevel.admin]) ids.push(await c.connectRemote(s.address, { authLevel }));
      // Behind each probe, a command that comes back through the same handlers: once it has run,
      // every probe answer before it on that connection has been dispatched.
      for (const id of ids) {
        c.send(id, 'r.probe');
        c.send(id, 'r.sync');
      }
      await waitFor(() => synced.size === 3, 'the probes and the barrier behind them');
      expect(ids.map((id) => counts.get(id.id) ?? 0)).to.deep.equal([1, 2, 3]);
    });
  }

  for (const mode of MODES) {
    it(`[${mode} for the network side] connectInproc has admin access; a default network connection is refused the admin category`, async () => {
      const seen: Message[] = [];
      const s = await h.server(mode, (o) =>
        o.addCategory('adm', AuthLevel.admin).addRequestCommand('r', (m) => {
          seen.push(m);
          m.sendReply('ok');
        }),
      );
      const inproc = await s.omq.connectInproc();
      expect(strs(await s.omq.request(inproc, 'adm.r', [], { timeout: 1000 }))).to.deep.equal(['ok']);
      expect(seen[0]!.access.auth).to.equal(AuthLevel.admin);
      expect(toHex(seen[0]!.conn.pubkey)).to.equal(toHex(s.omq.pubkey));
      expect(seen[0]!.remote).to.equal('(unknown)');
      const c = await h.client();
      const id = await c.connectRemote(s.address);
      expect((await rejection(c.request(id, 'adm.r', [], { timeout: 1000 }))).code).to.equal('FORBIDDEN');
      expect(seen).to.have.length(1);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a throwing handler sends no reply (the requester times out) and is logged; the server keeps serving`, async () => {
      const log = new RecordingLogger();
      const s = await h.server(
        mode,
        (o) => {
          o.addCategory('t', AuthLevel.none)
            .addRequestCommand('boom', () => {
              throw new Error('handler failure');
            })
            .addRequestCommand('aboom', async () => {
              throw new Error('async handler failure');
            })
            .addRequestCommand('ok', (m) => m.sendReply('fine'));
        },
        { logger: log },
      );
      const clock = new ManualClock();
      const c = await h.client({ clock });
      const id = await c.connectRemote(s.address);
      const failed: string[] = [];
      const boom = rejection(c.request(id, 't.boom', [], { timeout: 100 })).then((e) => void failed.push(e.code!));
      const aboom = rejection(c.request(id, 't.aboom', [], { timeout: 100 })).then((e) => void failed.push(e.code!));
      // Answered after both failures were logged, and any reply to them would have come first.
      expect(strs(await c.request(id, 't.ok', [], { timeout: 1000 }))).to.deep.equal(['fine']);
      expect(log.matching('t.boom failed', 'error')).to.have.length(1);
      expect(log.matching('t.aboom failed', 'error')).to.have.length(1);
      await flush();
      expect(failed).to.deep.equal([]);
      clock.advance(100);
      await Promise.all([boom, aboom]);
      expect(failed).to.deep.equal(['TIMEOUT', 'TIMEOUT']);
    });
  }

  for (const mode of MODES) {
    it(`bad input [${mode}]: unknown upper-case built-in names are UNKNOWNCOMMAND; a zero-frame message cannot be expressed in ZMTP (not tested)`, async () => {
      const s = await h.server(mode);
      const d = await dealer(mode, s);
      const names = ['PING', 'SUBSCRIBE', 'REPLYX', 'HELLO2', 'hi', 'hello', 'reply', 'Z'];
      for (const n of names) d.send(n, 'arg');
      await waitFor(() => d.received.length === names.length, 'all error replies');
      expect(d.received.map(strs)).to.deep.equal(names.map((n) => ['UNKNOWNCOMMAND', n]));
      d.send('HI', 'extra'); // HI is HI whatever follows
      expect(strs(await d.nth(names.length + 1))).to.deep.equal(['HELLO']);
    });
  }

  for (const mode of MODES) {
    it(`bad input [${mode}]: a request flood into a full category (maxQueue 2) drops the excess with a warning and no reply; accepted ones complete; other categories unaffected`, async () => {
      const log = new RecordingLogger();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let ran = 0;
      const s = await h.server(
        mode,
        (o) => {
          o.addCategory('slow', AuthLevel.none, 0, 2).addRequestCommand('r', async (m) => {
            ran++;
            await gate;
            m.sendReply('done', ...m.data);
          });
          o.addCategory('fast', AuthLevel.none, 1).addRequestCommand('r', (m) => m.sendReply('fast'));
        },
        { logger: log, generalThreads: 1 },
      );
      const clock = new ManualClock();
      const c = await h.client({ clock });
      const id = await c.connectRemote(s.address);
      const results = Array.from({ length: 20 }, (_, i) =>
        c.request(id, 'slow.r', [String(i)], { timeout: 500 }).then(
          (d) => strs(d).join(' '),
          (e: { code: string }) => e.code,
        ),
      );
      await waitFor(() => s.omq.stats().dropped === 17, '17 drops');
      // One warning per drop would let a peer choose how fast our log grows: the first three are
      // written, the rest are summed up when the throttle's interval ends.
      expect(log.matching('queue is full')).to.have.length(3);
      expect(ran).to.equal(1);
      const other = await h.client();
      const id2 = await other.connectRemote(s.address);
      expect(strs(await other.request(id2, 'fast.r', [], { timeout: 1000 }))).to.deep.equal(['fast']);
      release();
      expect(await Promise.all(results.slice(0, 3))).to.deep.equal(['done 0', 'done 1', 'done 2']);
      // Any answer to a dropped request would have come before these replies; none did.
      clock.advance(500);
      expect(await Promise.all(results.slice(3))).to.deep.equal(Array(17).fill('TIMEOUT'));
      expect(ran).to.equal(3);
    });
  }
});
