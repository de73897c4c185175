/**
 * OxenMQ over ZWS 2.0 WebSockets, TS ↔ TS: `listenPlain`/`listenCurve` on `ws://`,
 * `connectRemote` to `ws://` and `ws+curve://` addresses, and the OxenMQ features running over
 * them unchanged (requests, commands both ways, Allow and auth levels, refusal); the ws forms of
 * Address.
 */
import { expect } from 'chai';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import { Address } from '../../lib/address.js';
import type { Message } from '../../lib/message.js';
import { toHex } from '../../lib/oxenc/index.js';
import { OmqErrorCode } from '../../lib/errors.js';
import type { OxenMQ } from '../../lib/oxenmq.js';
import { Harness, MODES, type Mode, rejection, strs, waitFor } from '../helpers/omq.js';
import { nodeBuf } from '../helpers/bytes.js';

const KEY = 'ab'.repeat(32);

describe('lib/oxenmq over WebSocket', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  async function wsServer(mode: Mode, setup: (o: OxenMQ) => void, allow?: Parameters<OxenMQ['listenPlain']>[1]) {
    const o = h.omq();
    setup(o);
    const p = mode === 'curve' ? o.listenCurve('ws://127.0.0.1:0/omq', allow) : o.listenPlain('ws://127.0.0.1:0/omq', allow);
    await o.start();
    const endpoint = await p;
    const rest = endpoint.slice('ws://'.length);
    const address = mode === 'curve' ? `ws+curve://${rest}/${toHex(o.pubkey)}` : endpoint;
    return { omq: o, endpoint, address };
  }

  for (const mode of MODES) {
    it(`[${mode}] requests, commands both ways and the Allow level work over ws:// unchanged`, async () => {
      const allowed: [string, number, boolean][] = [];
      const pushed: string[] = [];
      const s = await wsServer(
        mode,
        (o) =>
          o
            .addCategory('public', AuthLevel.none)
            .addRequestCommand('echo', (m) => m.sendReply(...m.data))
            .addCommand('ping', (m: Message) => m.sendBack('client.pong', 'from-server', String(m.access.auth))),
        (address, pubkey, sn) => {
          allowed.push([address, pubkey.length, sn]);
          return AuthLevel.basic;
        },
      );
      expect(s.endpoint).to.match(/^ws:\/\/127\.0\.0\.1:[1-9][0-9]*\/omq$/);
      const c = h.omq();
      c.addCategory('client', AuthLevel.none).addCommand('pong', (m: Message) => pushed.push(...strs(m.data)));
      await c.start();
      const id = await c.connectRemote(s.address);
      const big = Buffer.alloc(600 * 1024, 7);
      const reply = await c.request(id, 'public.echo', ['a', big]);
      expect(reply[0]!.toString()).to.equal('a');
      expect(nodeBuf(reply[1]!).equals(big)).to.equal(true);
      c.send(id, 'public.ping');
      await waitFor(() => pushed.length === 2, 'the command pushed back');
      expect(pushed).to.deep.equal(['from-server', String(AuthLevel.basic)]);
      expect(allowed).to.deep.equal([['127.0.0.1', mode === 'curve' ? 32 : 0, false]]);
    });
  }

  for (const mode of MODES) {
    it(`[${mode}] a connection Allow denies fails connectRemote, and the listener serves others`, async () => {
      let n = 0;
      const s = await wsServer(mode, (o) => o.addCategory('public', AuthLevel.none).addRequestCommand('hi', (m) => m.sendReply('hi')), () =>
        ++n === 1 ? AuthLevel.denied : AuthLevel.none,
      );
      const c = await h.client();
      const err = await rejection(c.connectRemote(s.address));
      expect(err.code).to.equal(OmqErrorCode.CONNECT_FAILED);
      const id = await c.connectRemote(s.address);
      expect(strs(await c.request(id, 'public.hi'))).to.deep.equal(['hi']);
    });
  }

  it('service-node routing over ws: send(pubkey) and request(pubkey) reach an SN whose snLookup address is ws:// or ws+curve://', async () => {
    const sk = generateKeypair();
    const got: string[] = [];
    const sn = h.omq({ pubkey: sk.publicKey, privkey: sk.secretKey, serviceNode: true });
    sn.addCategory('sn', { auth: AuthLevel.none, remoteSn: false })
      .addCommand('note', (m: Message) => got.push(...strs(m.data)))
      .addRequestCommand('ask', (m) => m.sendReply('answer'));
    const bound = sn.listenCurve('ws://127.0.0.1:0/sn');
    await sn.start();
    const ep = await bound;
    for (const form of [ep, `ws+curve://${ep.slice(5)}/${toHex(sk.publicKey)}`]) {
      const c = await h.client({ snLookup: () => form });
      c.send(sk.publicKey, 'sn.note', form);
      await waitFor(() => got.includes(form), 'the SN command');
      expect(strs(await c.request(sk.publicKey, 'sn.ask'))).to.deep.equal(['answer']);
    }
  });

  it('a CURVE ws listener with the wrong server key in the address fails the connect', async () => {
    const s = await wsServer('curve', () => {});
    const failures: string[] = [];
    s.omq.on('handshake-failed', (e) => failures.push((e.error as { code?: string }).code ?? '?'));
    const c = await h.client();
    const wrong = s.address.replace(/\/[0-9a-f]{64}$/, `/${KEY}`);
    const err = await rejection(c.connectRemote(wrong, { timeout: 300 }));
    expect(err.code).to.equal(OmqErrorCode.CONNECT_FAILED);
    expect(failures[0]).to.equal('ERR_ZMTP_CURVE_HELLO');
  });

  it('Address parses, formats and round-trips ws, wss, ws+curve and wss+curve', () => {
    const key = Buffer.from(KEY, 'hex');
    const cases: [string, Partial<Address>, string][] = [
      ['ws://127.0.0.1:8080/omq', { protocol: 'ws', host: '127.0.0.1', port: 8080, path: '/omq', curve: false }, 'ws://127.0.0.1:8080/omq'],
      ['ws://h:1', { protocol: 'ws', path: '/' }, 'ws://h:1/'],
      ['wss://[::1]:443/a/b/', { protocol: 'wss', host: '[::1]', path: '/a/b/' }, 'wss://[::1]:443/a/b/'],
      [`ws+curve://h:2/${KEY}`, { protocol: 'ws', path: '/', curve: true }, 'ws://h:2/'],
      [`wss+curve://h:3/p/q/${KEY}`, { protocol: 'wss', path: '/p/q', curve: true }, 'wss://h:3/p/q'],
    ];
    for (const [text, fields, zmq] of cases) {
      const a = new Address(text);
      for (const [k, v] of Object.entries(fields)) expect((a as unknown as Record<string, unknown>)[k], `${text} ${k}`).to.equal(v);
      expect(a.zmqAddress()).to.equal(zmq);
      expect(a.isWs).to.equal(true);
      for (const enc of ['hex', 'base32z', 'base64'] as const) expect(new Address(a.fullAddress(enc)).equals(a), `${text} ${enc}`).to.equal(true);
      if (a.curve) expect(a.pubkey).to.deep.equal(Uint8Array.from(key));
    }
    expect(Address.ws('h', 5, '/x', key).fullAddress('hex')).to.equal(`ws+curve://h:5/x/${KEY}`);
    expect(Address.ws('h', 5, '/', undefined, { tls: true }).toString()).to.equal('wss://h:5/');
    expect(new Address('ws://h:1/x').equals(new Address('ws://h:1/y'))).to.equal(false);
    expect(new Address('ws://h:1/x').equals(new Address('wss://h:1/x'))).to.equal(false);
    for (const bad of ['ws://h:1?q', 'ws://h:1/a b', 'ws+curve://h:1', 'ws+curve://h:1/short', `ws+curve://h:1/${KEY}00`, 'ws://h:0/']) {
      expect(Address.tryParse(bad), bad).to.equal(undefined);
    }
    expect(() => new Address('ws://h:1/x').qrAddress()).to.throw().with.property('code', OmqErrorCode.BAD_ADDRESS);
  });
});
