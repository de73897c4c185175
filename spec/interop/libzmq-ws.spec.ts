/**
 * Interop with real libzmq 4.3 over ZWS 2.0 WebSockets (the `zeromq` package, a dev-only test
 * peer): our client ↔ a libzmq ROUTER bound on ws://, a libzmq DEALER ↔ our ws listener, NULL
 * (libzmq's `ZWS2.0/NULL` and the bare `ZWS2.0`) and CURVE, multipart frames up to 900 KiB both
 * ways, heartbeats (WebSocket pings each way), commands pushed by the server to an OxenMQ
 * client, OxenMQ requests from a libzmq DEALER, and Allow for a bare `ZWS2.0` libzmq peer.
 */
import { expect } from 'chai';
import * as zmq from 'zeromq';
import { curveClient, curveServer, generateKeypair, z85Decode, z85Encode } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import type { Message } from '../../lib/message.js';
import { toHex } from '../../lib/oxenc/index.js';
import { ZmtpConnection } from '../../zmtp/connection.js';
import { ManualClock, type ZmtpError, ZmtpErrorCode } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { freePort, nextMessage, waitFor } from '../helpers/net.js';
import { Harness, strs } from '../helpers/omq.js';
import { Rng } from '../helpers/random.js';

const rng = new Rng(45);
const KIB = 1024;
const PAYLOADS = [0, 1, 125, 126, 65_535, 65_536, 900 * KIB].map((n) => rng.bytes(n));

type Mode = 'NULL' | 'CURVE';

/** A libzmq DEALER (CURVE: with its own keys, for `serverKey`). */
function libzmqDealer(mode: Mode, serverKey?: Uint8Array, opts: zmq.SocketOptions<zmq.Dealer> = {}): zmq.Dealer {
  if (mode === 'NULL') return new zmq.Dealer({ routingId: 'libzmq', ...opts });
  const k = zmq.curveKeyPair();
  return new zmq.Dealer({ routingId: 'libzmq', curveServerKey: z85Encode(serverKey!), curvePublicKey: k.publicKey, curveSecretKey: k.secretKey, ...opts });
}

describe('interop/libzmq over WebSocket (ZWS 2.0)', () => {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  for (const [mode, offer] of [
    ['NULL', undefined],
    ['NULL', 'ZWS2.0'],
    ['CURVE', undefined],
  ] as const) {
    it(`[${offer ?? mode}] our dealer ↔ libzmq ROUTER on ws://: multipart, empty frames, up to 900 KiB, both ways`, async () => {
      const keys = zmq.curveKeyPair();
      const router = new zmq.Router(mode === 'CURVE' ? { curveServer: true, curveSecretKey: keys.secretKey } : {});
      closers.push(() => router.close());
      const port = await freePort();
      await router.bind(`ws://127.0.0.1:${port}/zws`);
      const me = generateKeypair();
      const dealer = new ZmtpDealer({
        identity: Buffer.from('ours'),
        heartbeatInterval: 0,
        wsSubprotocols: offer === undefined ? undefined : [offer],
        mechanism: mode === 'CURVE' ? curveClient({ serverKey: z85Decode(keys.publicKey), ...me }) : undefined,
      });
      closers.push(() => dealer.close());
      dealer.connect(`ws://127.0.0.1:${port}/zws`);
      dealer.send(['first', ...PAYLOADS]);
      const [id, ...parts] = await router.receive();
      expect(id!.toString()).to.equal('ours');
      expect(parts[0]!.toString()).to.equal('first');
      PAYLOADS.forEach((p, i) => expect(Buffer.compare(parts[i + 1]!, p)).to.equal(0, `size ${p.length}`));
      const back = nextMessage(dealer);
      await router.send([id!, ...PAYLOADS]);
      const got = await back;
      PAYLOADS.forEach((p, i) => expect(Buffer.compare(got[i]!, p)).to.equal(0, `size ${p.length}`));
    });
  }

  for (const [mode, form] of [
    ['NULL', 'ZWS2.0/NULL'],
    ['NULL', 'ZWS2.0'],
    ['CURVE', 'ZWS2.0/CURVE'],
  ] as const) {
    it(`[${form}] libzmq DEALER ↔ our ws listener: the hook runs, multipart up to 900 KiB both ways`, async () => {
      const keys = generateKeypair();
      const asked: string[] = [];
      const r = new ZmtpRouter<string>({
        heartbeatInterval: 0,
        mechanism: mode === 'CURVE' ? curveServer(keys) : undefined,
        wsSubprotocols: [form],
        authenticate: (req) => {
          asked.push(`${req.mechanism}:${req.identity.toString()}:${req.publicKey?.length ?? 0}`);
          return { allow: true, data: 'ok' };
        },
      });
      closers.push(() => r.close());
      r.onMessage = (frames, route) => r.send(route, frames);
      const ep = await r.bind('ws://127.0.0.1:0/zws');
      const d = libzmqDealer(mode, keys.publicKey);
      closers.push(() => d.close());
      d.connect(ep);
      // Copies: libzmq masks a client's large messages in place, in the caller's buffers.
      await d.send(PAYLOADS.map((p) => Buffer.from(p)));
      const got = await d.receive();
      PAYLOADS.forEach((p, i) => expect(Buffer.compare(got[i]!, p)).to.equal(0, `size ${p.length}`));
      expect(asked).to.deep.equal([`${mode}:libzmq:${mode === 'CURVE' ? 32 : 0}`]);
      expect(r.peer(Buffer.from('libzmq'))?.authData).to.equal('ok');
    });
  }

  it('a bare ZWS2.0 libzmq DEALER on a listener whose hook denies it is refused and never delivers', async () => {
    let delivered = 0;
    const failed: ZmtpError[] = [];
    const r = new ZmtpRouter({ heartbeatInterval: 0, wsSubprotocols: ['ZWS2.0'], authenticate: () => ({ allow: false, status: '400' }) });
    closers.push(() => r.close());
    r.onMessage = () => delivered++;
    r.on('handshake-failed', (e) => failed.push(e));
    const ep = await r.bind('ws://127.0.0.1:0/zws');
    const d = libzmqDealer('NULL', undefined, { reconnectInterval: 10_000 });
    closers.push(() => d.close());
    d.connect(ep);
    await d.send(['let me in']);
    await waitFor(() => failed.length >= 1, 'the denial');
    expect(failed[0]!.code).to.equal(ZmtpErrorCode.AUTH_DENIED);
    expect(delivered).to.equal(0);
    expect(r.size).to.equal(0);
  });

  it('heartbeats: libzmq pings us and we answer; we ping libzmq (ManualClock) and it answers', async () => {
    // libzmq → us: its WebSocket pings every 50 ms with a 150 ms timeout; we answer with pongs.
    const r = new ZmtpRouter({ heartbeatInterval: 0 });
    closers.push(() => r.close());
    const gone: unknown[] = [];
    r.on('disconnect', (_p, _r, e) => gone.push(e));
    r.onMessage = (frames, route) => r.send(route, frames);
    const ep = await r.bind('ws://127.0.0.1:0/hb');
    const d = libzmqDealer('NULL', undefined, { heartbeatInterval: 50, heartbeatTimeout: 150 });
    closers.push(() => d.close());
    d.connect(ep);
    await d.send(['one']);
    await d.receive();
    await new Promise((res) => setTimeout(res, 500)); // libzmq's clock is real: ten of its pings
    await d.send(['two']);
    expect((await d.receive()).map(String)).to.deep.equal(['two']);
    expect(gone).to.deep.equal([]);
    expect(r.size).to.equal(1);

    // us → libzmq, on our ManualClock: a ping per interval, libzmq's pong keeps us connected.
    const router = new zmq.Router();
    closers.push(() => router.close());
    const port = await freePort();
    await router.bind(`ws://127.0.0.1:${port}/hb`);
    const clock = new ManualClock();
    const dealer = new ZmtpDealer({ clock, heartbeatInterval: 1000, heartbeatTimeout: 3000 });
    closers.push(() => dealer.close());
    const down: unknown[] = [];
    dealer.on('disconnect', (e) => down.push(e));
    dealer.connect(`ws://127.0.0.1:${port}/hb`);
    await waitFor(() => dealer.connection !== null, 'connected');
    const conn = dealer.connection as ZmtpConnection<undefined>;
    let pongs = 0;
    conn.socket.on('data', (chunk) => chunk.length === 0 && pongs++);
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      await waitFor(() => pongs === i, `libzmq's pong #${i}`);
    }
    clock.advance(3000);
    expect(down).to.deep.equal([]);
    expect(dealer.state).to.equal('ready');
  });

  describe('OxenMQ over ws with libzmq peers', () => {
    const h = new Harness();
    afterEach(() => h.closeAll());

    it('a libzmq DEALER makes OxenMQ requests to our ws listener, NULL and CURVE', async () => {
      const o = h.omq();
      o.addCategory('public', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data));
      const plain = o.listenPlain('ws://127.0.0.1:0/omq');
      const curve = o.listenCurve('ws://127.0.0.1:0/omqc');
      await o.start();
      for (const [mode, ep] of [
        ['NULL', await plain],
        ['CURVE', await curve],
      ] as const) {
        const d = libzmqDealer(mode, o.pubkey);
        closers.push(() => d.close());
        d.connect(ep);
        await d.send(['public.echo', 'tag1', 'hello']);
        expect((await d.receive()).map(String)).to.deep.equal(['REPLY', 'tag1', 'hello']);
      }
    });

    it('a libzmq ROUTER answering as an OxenMQ node pushes commands to our OxenMQ client over ws+curve://', async () => {
      const keys = zmq.curveKeyPair();
      const router = new zmq.Router({ curveServer: true, curveSecretKey: keys.secretKey });
      const port = await freePort();
      await router.bind(`ws://127.0.0.1:${port}/node`);
      const serve = (async () => {
        for await (const [route, cmd, tag, ...rest] of router) {
          if (cmd!.toString() === 'HI') await router.send([route!, 'HELLO']);
          else if (cmd!.toString() === 'rpc.echo') {
            await router.send([route!, 'REPLY', tag!, ...rest]);
            await router.send([route!, 'client.note', 'pushed', ...rest]);
          }
        }
      })().catch(() => {});
      closers.push(() => serve);
      closers.push(() => router.close());
      const notes: string[][] = [];
      const c = h.omq();
      c.addCategory('client', AuthLevel.none).addCommand('note', (m: Message) => notes.push(strs(m.data)));
      await c.start();
      const id = await c.connectRemote(`ws+curve://127.0.0.1:${port}/node/${toHex(z85Decode(keys.publicKey))}`);
      expect(strs(await c.request(id, 'rpc.echo', ['x']))).to.deep.equal(['x']);
      await waitFor(() => notes.length === 1, 'the pushed command');
      expect(notes[0]).to.deep.equal(['pushed', 'x']);
    });
  });
});
