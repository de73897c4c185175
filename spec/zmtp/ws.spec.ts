/**
 * ZWS 2.0 (ZeroMQ RFC 45) under the ZMTP engine: the wire format seen by a raw WebSocket peer,
 * the subprotocol forms (libzmq `src/ws_engine.cpp`, `select_protocol`), admission for a bare
 * `ZWS2.0` peer, heartbeats as WebSocket pings on a ManualClock, and bad input that ends only
 * its own connection with a typed error.
 */
import { expect } from 'chai';
import net from 'node:net';
import { curveClient, curveServer, generateKeypair } from '../../curve/index.js';
import { type AuthRequest, ManualClock, type ZmtpError, ZmtpErrorCode, type RouterOptions, encodeCommand, encodeMetadata, parseEndpoint } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { setWsLoader } from '../../zmtp/ws.js';
import { nextMessage, once, waitFor } from '../helpers/net.js';
import { WebSocket } from 'ws';
import { RawWs, rawHttp } from '../helpers/ws.js';
import { nodeBuf } from '../helpers/bytes.js';

const ready = (type: string, id = '') =>
  encodeCommand('READY', encodeMetadata([['Socket-Type', Buffer.from(type)], ['Identity', Buffer.from(id)]]));
const portOf = (ep: string) => Number(/:(\d+)\//.exec(ep)![1]);

describe('zmtp over WebSocket (ZWS 2.0)', () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function router<A = unknown>(opts: RouterOptions<A> = {}, path = '/zmq'): Promise<{ r: ZmtpRouter<A>; ep: string; failed: [ZmtpError, string][]; gone: ZmtpError[] }> {
    const r = new ZmtpRouter<A>({ heartbeatInterval: 0, ...opts });
    const failed: [ZmtpError, string][] = [];
    const gone: ZmtpError[] = [];
    r.on('handshake-failed', (e, a) => failed.push([e, a]));
    r.on('disconnect', (_p, _r, e) => e && gone.push(e));
    r.onMessage = (frames, route) => r.send(route, ['echo', ...frames]);
    const ep = await r.bind(`ws://127.0.0.1:0${path}`);
    closers.push(() => r.close());
    return { r, ep, failed, gone };
  }

  function raw(ep: string, protocols: string | undefined, opts: { origin?: string; autoPong?: boolean; path?: string } = {}): RawWs {
    const url = opts.path === undefined ? ep : ep.replace(/\/[^/]*$/, opts.path);
    const c = new RawWs(url, protocols, opts);
    closers.push(() => c.close());
    return c;
  }

  /** A raw ZWS2.0/NULL client whose handshake with the listener is done. */
  async function nullClient(ep: string): Promise<RawWs> {
    const c = raw(ep, 'ZWS2.0/NULL');
    expect(await c.opened).to.equal(true);
    c.frame(0x02, ready('DEALER'));
    await c.nth(1);
    return c;
  }

  it('binds ws:// with port 0 reporting the real port and the path, and refuses to bind wss://', async () => {
    const { ep } = await router({}, '/a/b');
    expect(ep).to.match(/^ws:\/\/127\.0\.0\.1:[1-9][0-9]*\/a\/b$/);
    const r = new ZmtpRouter();
    closers.push(() => r.close());
    const err = await r.bind('wss://127.0.0.1:0/x').then(() => null, (e: ZmtpError) => e);
    expect(err?.code).to.equal(ZmtpErrorCode.BAD_ENDPOINT);
    expect(parseEndpoint('ws://h:1')).to.deep.equal({ transport: 'ws', host: 'h', port: 1, path: '/' });
    expect(parseEndpoint('wss://[::1]:443/p')).to.deep.equal({ transport: 'wss', host: '::1', port: 443, path: '/p' });
    expect(() => parseEndpoint('ws://h:1/a b')).to.throw().with.property('code', ZmtpErrorCode.BAD_ENDPOINT);
  });

  it('ZWS2.0/NULL: no greeting, one binary message per frame with 0x02 COMMAND and 0x01 MORE', async () => {
    const { r, ep } = await router();
    const got = new Promise<Uint8Array[]>((res) => (r.onMessage = (f, route) => (res(f), r.send(route, ['x', 'yz']))));
    const c = raw(ep, 'ZWS2.0/NULL');
    expect(await c.opened).to.equal(true);
    expect(c.log.protocol).to.equal('ZWS2.0/NULL');
    c.frame(0x02, ready('DEALER', 'me'));
    const first = await c.nth(1);
    expect(first[0]).to.equal(0x02);
    expect(first.subarray(1, 7).toString('latin1')).to.equal('\x05READY');
    c.frame(0x01, 'a');
    c.frame(0x00, 'bc');
    expect((await got).map(String)).to.deep.equal(['a', 'bc']);
    expect((await c.nth(2)).toString('latin1')).to.equal('\x01x');
    expect((await c.nth(3)).toString('latin1')).to.equal('\x00yz');
    expect(r.peer(Buffer.from('me'))).to.not.equal(undefined);
  });

  it("picks libzmq's ZWS2.0/NULL from its offer 'ZWS2.0/NULL,ZWS2.0', and our preference when configured", async () => {
    const a = await router();
    const c1 = raw(a.ep, 'ZWS2.0/NULL,ZWS2.0');
    await c1.opened;
    expect(c1.log.protocol).to.equal('ZWS2.0/NULL');
    const b = await router({ wsSubprotocols: ['ZWS2.0', 'ZWS2.0/NULL'] });
    const c2 = raw(b.ep, 'ZWS2.0/NULL, ZWS2.0');
    await c2.opened;
    expect(c2.log.protocol).to.equal('ZWS2.0');
    expect(() => new ZmtpRouter({ wsSubprotocols: ['ZWS2.0/CURVE'] }).bind('ws://127.0.0.1:0/')).to.not.throw();
    const bad = new ZmtpRouter({ wsSubprotocols: ['ZWS2.0/CURVE'] });
    const err = await bad.bind('ws://127.0.0.1:0/').then(() => null, (e: ZmtpError) => e);
    expect(err?.code).to.equal(ZmtpErrorCode.BAD_ENDPOINT);
  });

  it('bare ZWS2.0: the routing id is the first message each way, and the hook runs before anything is delivered', async () => {
    const asked: AuthRequest[] = [];
    let decide!: () => void;
    const { r, ep } = await router({
      authenticate: (req) => {
        asked.push(req);
        return new Promise<{ allow: true; data: string }>((res) => (decide = () => res({ allow: true, data: 'ok' })));
      },
    });
    const routes: string[] = [];
    r.onMessage = (f, route) => {
      routes.push(route.toString());
      r.send(route, ['echo', ...f]);
    };
    const c = raw(ep, 'ZWS2.0');
    await c.opened;
    c.frame(0x00, 'peer-1');
    c.frame(0x00, 'early');
    await waitFor(() => asked.length === 1, 'the hook');
    expect(asked[0]!.identity.toString()).to.equal('peer-1');
    expect(asked[0]!.mechanism).to.equal('NULL');
    await c.roundTrip(); // the listener has read everything sent before
    expect(routes, 'nothing is delivered before the hook admits the peer').to.deep.equal([]);
    expect(c.log.messages).to.have.length(0);
    decide();
    expect(await c.nth(1)).to.deep.equal(Buffer.from([0x00]));
    expect((await c.nth(2)).toString()).to.equal('\x01echo');
    expect((await c.nth(3)).toString()).to.equal('\x00early');
    expect(routes).to.deep.equal(['peer-1']);
    expect(r.peer(Buffer.from('peer-1'))?.authData).to.equal('ok');
  });

  it('bare ZWS2.0 peer denied by the hook is closed with 1008 and never delivers (no bypass of authentication)', async () => {
    let delivered = 0;
    const { r, ep, failed } = await router({ authenticate: () => ({ allow: false, status: '400' }) });
    r.onMessage = () => delivered++;
    const c = raw(ep, 'ZWS2.0');
    await c.opened;
    c.frame(0x00, '');
    c.frame(0x00, 'let me in');
    expect((await c.closed()).code).to.equal(1008);
    await waitFor(() => failed.length === 1, 'handshake-failed');
    expect(failed[0]![0].code).to.equal(ZmtpErrorCode.AUTH_DENIED);
    expect(delivered).to.equal(0);
    expect(c.log.messages).to.have.length(0);
  });

  for (const mode of ['NULL', 'CURVE'] as const) {
    it(`ours ↔ ours over ws (${mode}): multipart messages up to 900 KiB both ways`, async () => {
      const keys = generateKeypair();
      const ck = generateKeypair();
      const { ep } = await router(mode === 'CURVE' ? { mechanism: curveServer(keys) } : {});
      const d = new ZmtpDealer({
        heartbeatInterval: 0,
        mechanism: mode === 'CURVE' ? curveClient({ serverKey: keys.publicKey, ...ck }) : undefined,
      });
      closers.push(() => d.close());
      d.connect(ep);
      const big = Buffer.alloc(900 * 1024, 0x5a);
      const reply = nextMessage(d);
      d.send(['a', '', big]);
      const got = await reply;
      expect(got.map((b) => b.length)).to.deep.equal([4, 1, 0, big.length]);
      expect(nodeBuf(got[3]!).equals(big)).to.equal(true);
    });
  }

  it('our extension ZWS2.0+CURVE / ZWS2.0+NULL: token names a browser (and ws) can offer, the same wire as the / forms', async () => {
    const keys = generateKeypair();
    const { ep } = await router({ mechanism: curveServer(keys) });
    expect(() => new WebSocket(ep, ['ZWS2.0/CURVE']), "'/' is not a token character").to.throw(SyntaxError);
    const plainWs = new WebSocket(ep, ['ZWS2.0+CURVE']); // accepted by a strict client
    closers.push(() => plainWs.terminate());
    await once(plainWs, 'open');
    expect(plainWs.protocol).to.equal('ZWS2.0+CURVE');
    const d = new ZmtpDealer({ heartbeatInterval: 0, wsSubprotocols: ['ZWS2.0+CURVE'], mechanism: curveClient({ serverKey: keys.publicKey, ...generateKeypair() }) });
    closers.push(() => d.close());
    d.connect(ep);
    const reply = nextMessage(d);
    d.send(['over', 'curve']);
    expect((await reply).map(String)).to.deep.equal(['echo', 'over', 'curve']);
    const n = await router();
    const c = raw(n.ep, 'ZWS2.0+NULL');
    expect(await c.opened).to.equal(true);
    expect(c.log.protocol).to.equal('ZWS2.0+NULL');
    c.frame(0x02, ready('DEALER'));
    expect((await c.nth(1))[0]).to.equal(0x02);
  });

  it('a dealer reports a refused upgrade (wrong path) as ERR_ZMTP_WS_UPGRADE and does not retry', async () => {
    const { ep } = await router({}, '/right');
    const d = new ZmtpDealer({ heartbeatInterval: 0 });
    closers.push(() => d.close());
    d.connect(ep.replace('/right', '/wrong'));
    const [err] = await once<[ZmtpError]>(d, 'failed');
    expect(err.code).to.equal(ZmtpErrorCode.WS_UPGRADE);
    expect(err.message).to.contain('404');
  });

  describe('heartbeats are WebSocket pings (libzmq answers no in-band PING over ws)', () => {
    for (const answer of [true, false]) {
      it(answer ? 'a peer that pongs stays connected' : 'a peer that never pongs is dropped with ERR_ZMTP_HEARTBEAT_TIMEOUT', async () => {
        const clock = new ManualClock();
        const { r, ep, gone } = await router({ clock, heartbeatInterval: 1000, heartbeatTimeout: 3000 });
        const c = raw(ep, 'ZWS2.0/NULL', { autoPong: answer });
        await c.opened;
        c.frame(0x02, ready('DEALER'));
        await c.nth(1);
        await waitFor(() => r.size === 1, 'connected');
        clock.advance(1000);
        await waitFor(() => c.log.pings === 1, 'a WebSocket ping');
        expect(c.log.messages, 'no PING command in a binary message').to.have.length(1);
        // A round trip after the pong, so that it has been read.
        c.frame(0x00, 'x');
        await c.nth(2);
        clock.advance(1000);
        await waitFor(() => c.log.pings === 2, 'the second ping');
        if (answer) {
          c.frame(0x00, 'y');
          await c.nth(3);
        }
        clock.advance(3000);
        if (answer) {
          c.frame(0x00, 'z');
          await c.nth(4);
          expect(gone).to.deep.equal([]);
          expect(r.size).to.equal(1);
        } else {
          await waitFor(() => gone.length === 1, 'the heartbeat timeout');
          expect(gone[0]!.code).to.equal(ZmtpErrorCode.HEARTBEAT_TIMEOUT);
        }
      });
    }
  });

  describe('bad input ends only that connection, with a typed error', () => {
    /** Runs `bad` on a fresh connection beside a healthy one, which must still work after. */
    async function isolated(
      opts: RouterOptions,
      bad: (ep: string, failed: [ZmtpError, string][]) => Promise<void>,
    ): Promise<{ failed: [ZmtpError, string][]; gone: ZmtpError[] }> {
      const res = await router(opts);
      const good = await nullClient(res.ep);
      await bad(res.ep, res.failed);
      good.frame(0x00, 'still here');
      const echo = await good.nth(3);
      expect(echo.toString()).to.equal('\x00still here');
      return res;
    }

    const afterHandshake = (send: (c: RawWs) => void, code: string) => async () => {
      const { gone } = await isolated({}, async (ep) => {
        const c = await nullClient(ep);
        send(c);
        await c.closed();
      });
      await waitFor(() => gone.length === 1, 'disconnect');
      expect(gone[0]!.code).to.equal(code);
    };

    it('a text message: ERR_ZMTP_WS_PROTOCOL', afterHandshake((c) => c.ws.send('hello'), ZmtpErrorCode.WS_PROTOCOL));
    it('an empty message (no flags byte): ERR_ZMTP_WS_PROTOCOL', afterHandshake((c) => c.ws.send(Buffer.alloc(0)), ZmtpErrorCode.WS_PROTOCOL));
    it('reserved flag bits: ERR_ZMTP_RESERVED_FLAGS', afterHandshake((c) => c.frame(0x04, 'x'), ZmtpErrorCode.RESERVED_FLAGS));
    it('a command with MORE: ERR_ZMTP_COMMAND_MORE', afterHandshake((c) => c.frame(0x03, '\x04PING\x00\x00'), ZmtpErrorCode.COMMAND_MORE));

    it('a message over maxMessageSize: ERR_ZMTP_FRAME_TOO_LARGE and close code 1009', async () => {
      let closeCode = 0;
      const { gone } = await isolated({ maxMessageSize: 1000 }, async (ep) => {
        const c = await nullClient(ep);
        c.frame(0x00, Buffer.alloc(1000)); // exactly the limit: fine
        await c.nth(2);
        c.frame(0x00, Buffer.alloc(1001));
        closeCode = (await c.closed()).code;
      });
      await waitFor(() => gone.length === 1, 'disconnect');
      expect(gone[0]!.code).to.equal(ZmtpErrorCode.FRAME_TOO_LARGE);
      expect(closeCode).to.equal(1009);
    });

    it('a data frame before the ZWS2.0/NULL handshake: ERR_ZMTP_UNEXPECTED_COMMAND', async () => {
      const { failed } = await isolated({}, async (ep) => {
        const c = raw(ep, 'ZWS2.0/NULL');
        await c.opened;
        c.frame(0x00, 'too early');
        await c.closed();
      });
      await waitFor(() => failed.length === 1, 'handshake-failed');
      expect(failed[0]![0].code).to.equal(ZmtpErrorCode.UNEXPECTED_COMMAND);
    });

    const refusedUpgrade = (what: string, protocols: string | undefined, status: number, opts: RouterOptions & { path?: string; origin?: string } = {}) =>
      it(`${what}: HTTP ${status}, ERR_ZMTP_WS_UPGRADE`, async () => {
        const { failed } = await isolated(opts, async (ep) => {
          const c = raw(ep, protocols, { path: opts.path, origin: opts.origin });
          expect(await c.opened).to.equal(false);
          expect(c.log.status).to.equal(status);
        });
        await waitFor(() => failed.length === 1, 'handshake-failed');
        expect(failed[0]![0].code).to.equal(ZmtpErrorCode.WS_UPGRADE);
      });
    refusedUpgrade('a WebSocket client that does not speak ZWS (no subprotocol)', undefined, 400);
    refusedUpgrade('an unknown subprotocol', 'chat, ZWS1.0', 400);
    refusedUpgrade('ZWS2.0/CURVE on a NULL listener', 'ZWS2.0/CURVE', 400);
    refusedUpgrade('another path', 'ZWS2.0/NULL', 404, { path: '/other' });
    refusedUpgrade('a browser Origin with no allowOrigin', 'ZWS2.0/NULL', 403, { origin: 'https://evil.example' });
    refusedUpgrade('a browser Origin not in allowOrigin', 'ZWS2.0/NULL', 403, { origin: 'https://evil.example', allowOrigin: ['https://app.example'] });

    it('an Origin in allowOrigin is accepted', async () => {
      const { ep } = await router({ allowOrigin: ['https://app.example'] });
      const c = raw(ep, 'ZWS2.0/NULL', { origin: 'https://app.example' });
      expect(await c.opened).to.equal(true);
    });

    it('a plain HTTP request: 426, and garbage before the upgrade: 400, both ERR_ZMTP_WS_UPGRADE', async () => {
      const { failed } = await isolated({}, async (ep) => {
        const port = portOf(ep);
        expect(await rawHttp(port, 'GET /zmq HTTP/1.1\r\nHost: x\r\n\r\n')).to.match(/^HTTP\/1\.1 426/);
        expect(await rawHttp(port, '\x16\x03\x01garbage\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
      });
      await waitFor(() => failed.length === 2, 'two handshake-failed');
      expect(failed.map(([e]) => e.code)).to.deep.equal([ZmtpErrorCode.WS_UPGRADE, ZmtpErrorCode.WS_UPGRADE]);
    });

    it('upgrades in progress count against maxHandshakesPerAddress: one too many is closed at once', async () => {
      const { failed } = await isolated({ maxHandshakesPerAddress: 1 }, async (ep) => {
        const stall = net.connect({ host: '127.0.0.1', port: portOf(ep) });
        stall.on('error', () => {});
        closers.push(() => stall.destroy());
        await once(stall, 'connect');
        stall.write('GET /zmq HTTP/1.1\r\n');
        const extra = net.connect({ host: '127.0.0.1', port: portOf(ep) });
        extra.on('error', () => {});
        await once(extra, 'close');
      });
      expect(failed.map(([e]) => e.code)).to.deep.equal([ZmtpErrorCode.WS_UPGRADE]);
    });

    it('a stalled upgrade is closed at handshakeTimeout: ERR_ZMTP_HANDSHAKE_TIMEOUT', async () => {
      const clock = new ManualClock();
      const { failed } = await isolated({ clock, handshakeTimeout: 5000 }, async (ep, failed) => {
        const s = net.connect({ host: '127.0.0.1', port: portOf(ep) });
        s.on('error', () => {});
        closers.push(() => s.destroy());
        await once(s, 'connect');
        s.write('GET /zmq HTTP/1.1\r\n'); // and nothing more
        await waitFor(() => clock.pending >= 1, 'the upgrade timer');
        const closed = once(s, 'close');
        clock.advance(4999);
        expect(failed).to.have.length(0);
        clock.advance(1);
        await closed;
      });
      expect(failed.map(([e]) => e.code)).to.deep.equal([ZmtpErrorCode.HANDSHAKE_TIMEOUT]);
    });
  });

  it('without the ws package, binding and connecting fail with ERR_ZMTP_WS_UNAVAILABLE naming it', async () => {
    setWsLoader(() => Promise.reject(new Error("Cannot find package 'ws'")));
    try {
      const r = new ZmtpRouter();
      closers.push(() => r.close());
      const err = await r.bind('ws://127.0.0.1:0/').then(() => null, (e: ZmtpError) => e);
      expect(err?.code).to.equal(ZmtpErrorCode.WS_UNAVAILABLE);
      expect(err?.message).to.contain('"ws"');
      const d = new ZmtpDealer();
      closers.push(() => d.close());
      d.connect('ws://127.0.0.1:1/');
      const [failed] = await once<[ZmtpError]>(d, 'failed');
      expect(failed.code).to.equal(ZmtpErrorCode.WS_UNAVAILABLE);
      expect(() => d.send(['x'])).to.throw().with.property('code', ZmtpErrorCode.CLOSED);
    } finally {
      setWsLoader(undefined);
    }
  });
});
