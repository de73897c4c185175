/**
 * Interop with real libzmq 4.3 CURVE (the `zeromq` package as a dev-only test peer): our client
 * against a libzmq CURVE server and a libzmq CURVE client against our server, over tcp and ipc;
 * multipart with empty frames, frames up to the 1 MiB limit (which counts the 33 bytes of MESSAGE
 * overhead, as libzmq does), heartbeats inside MESSAGE, ZAP denial both ways, wrong server key.
 */
import { expect } from 'chai';
import * as zmq from 'zeromq';
import { curveClient, curveServer, generateKeypair, z85Decode, z85Encode } from '../../curve/index.js';
import { type Peer, type ZmtpError, ZmtpErrorCode } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { Relay, commandsIn, messageBoxesIn, once, waitFor, listenEndpoint, nextMessage, nextRouted } from '../helpers/net.js';
import { Rng } from '../helpers/random.js';

const rng = new Rng(2024);
const MIB = 1024 * 1024;
const SIZES = [0, 1, 255, 256, 65_536, MIB - 33];
const PAYLOADS = SIZES.map((n) => rng.bytes(n));


for (const transport of ['tcp', 'ipc'] as const) {
  const endpoint = (name: string) => listenEndpoint(transport, name);

  describe(`interop/libzmq CURVE over ${transport}`, () => {
    it('our client ↔ libzmq CURVE server: multipart, empty frames, sizes up to 1 MiB − 33, both ways', async () => {
      const server = zmq.curveKeyPair();
      const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, maxMessageSize: MIB });
      await router.bind(endpoint('c1'));
      const me = generateKeypair();
      const dealer = new ZmtpDealer({
        identity: Buffer.from('Lcurve'),
        mechanism: curveClient({ serverKey: z85Decode(server.publicKey), publicKey: me.publicKey, secretKey: me.secretKey }),
        maxMessageSize: MIB,
      });
      try {
        dealer.connect(router.lastEndpoint!);
        dealer.send(['first', Buffer.alloc(0), ...PAYLOADS]);
        const [id, ...parts] = await router.receive();
        expect(id!.toString()).to.equal('Lcurve');
        expect(parts[0]!.toString()).to.equal('first');
        expect(parts[1]!.length).to.equal(0);
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(parts[i + 2]!, p)).to.equal(0, `size ${p.length}`));
        const back = nextMessage(dealer);
        await router.send([id!, Buffer.alloc(0), ...PAYLOADS]);
        const got = await back;
        expect(got[0]!.length).to.equal(0);
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(got[i + 1]!, p)).to.equal(0, `size ${p.length}`));
      } finally {
        await dealer.close();
        router.close();
      }
    });

    it('libzmq CURVE client ↔ our server: the auth hook sees the client long-term key; replies flow', async () => {
      const me = generateKeypair();
      const seen: Uint8Array[] = [];
      const router = new ZmtpRouter({
        mechanism: curveServer({ publicKey: me.publicKey, secretKey: me.secretKey }),
        authenticate: (req) => {
          seen.push(req.publicKey!);
          return true;
        },
      });
      const ep = await router.bind(endpoint('c2'));
      const client = zmq.curveKeyPair();
      const d = new zmq.Dealer({
        routingId: 'zcurve',
        curveServerKey: z85Encode(me.publicKey),
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      });
      try {
        d.connect(ep);
        const got = nextRouted(router);
        await d.send(['hello', Buffer.alloc(0), ...PAYLOADS]);
        const m = await got;
        expect(m.route.toString()).to.equal('zcurve');
        expect(Buffer.from(m.peer.publicKey!)).to.deep.equal(Buffer.from(z85Decode(client.publicKey)));
        expect(seen).to.have.length(1);
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(m.frames[i + 2]!, p)).to.equal(0, `size ${p.length}`));
        router.send(m.route, ['reply', Buffer.alloc(0), PAYLOADS.at(-1)!]);
        const [r, empty, big] = await d.receive();
        expect(r!.toString()).to.equal('reply');
        expect(empty!.length).to.equal(0);
        expect(Buffer.compare(big!, PAYLOADS.at(-1)!)).to.equal(0);
      } finally {
        d.close();
        await router.close();
      }
    });
  });
}

describe('interop/libzmq CURVE: limits, heartbeats, refusals', () => {
  it('the 1 MiB limit counts the 33 bytes of MESSAGE overhead: 1 MiB − 33 passes, 1 MiB − 32 ends the connection', async () => {
    const me = generateKeypair();
    const router = new ZmtpRouter({ mechanism: curveServer({ secretKey: me.secretKey }), maxMessageSize: MIB });
    const ep = await router.bind('tcp://127.0.0.1:0');
    const client = zmq.curveKeyPair();
    const d = new zmq.Dealer({ curveServerKey: z85Encode(me.publicKey), curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, reconnectInterval: -1 });
    try {
      d.connect(ep);
      const got = nextRouted(router);
      await d.send(Buffer.alloc(MIB - 33, 1));
      expect((await got).frames[0]!.length).to.equal(MIB - 33);
      const gone = once<[Peer, Buffer | null, ZmtpError | null]>(router, 'disconnect');
      await d.send(Buffer.alloc(MIB - 32, 2));
      expect((await gone)[2]?.code).to.equal(ZmtpErrorCode.FRAME_TOO_LARGE);
    } finally {
      d.close();
      await router.close();
    }
  });

  it('heartbeats travel inside MESSAGE both ways (PING from libzmq answered, ours answered)', async () => {
    const me = generateKeypair();
    const router = new ZmtpRouter({ mechanism: curveServer({ secretKey: me.secretKey }), heartbeatInterval: 20, heartbeatTimeout: 2000 });
    const ep = await router.bind('tcp://127.0.0.1:0');
    const relay = await Relay.start(Number(ep.split(':').at(-1)));
    const client = zmq.curveKeyPair();
    const d = new zmq.Dealer({
      curveServerKey: z85Encode(me.publicKey),
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
      heartbeatInterval: 20,
      heartbeatTimeout: 2000,
    });
    try {
      d.connect(relay.endpoint);
      let got = nextRouted(router);
      await d.send('before');
      const { route } = await got;
      // On the wire only handshake commands and MESSAGE boxes appear: PING/PONG are inside.
      // 'before' is one box; every further box each way is a PING or a PONG.
      await waitFor(() => messageBoxesIn(relay.c2s) >= 5 && messageBoxesIn(relay.s2c) >= 4, 'boxed heartbeats', 5000, relay);
      expect(commandsIn(relay.c2s).concat(commandsIn(relay.s2c))).to.not.include('PING');
      // The connection survived several heartbeat rounds and still carries data both ways.
      got = nextRouted(router);
      await d.send('after');
      expect((await got).frames[0]!.toString()).to.equal('after');
      router.send(route, ['still here']);
      expect((await d.receive())[0]!.toString()).to.equal('still here');
    } finally {
      d.close();
      await relay.close();
      await router.close();
    }
  });

  it('our listener denying a libzmq CURVE client: libzmq sees an auth failure with status 400', async () => {
    const me = generateKeypair();
    const router = new ZmtpRouter({ mechanism: curveServer({ secretKey: me.secretKey }), authenticate: () => ({ allow: false }) });
    const ep = await router.bind('tcp://127.0.0.1:0');
    const client = zmq.curveKeyPair();
    const d = new zmq.Dealer({ curveServerKey: z85Encode(me.publicKey), curvePublicKey: client.publicKey, curveSecretKey: client.secretKey });
    let status: unknown;
    d.events.on('handshake:error:auth', (e) => (status = e.error.status));
    try {
      const failed = once<[ZmtpError]>(router, 'handshake-failed');
      d.connect(ep);
      expect((await failed)[0].code).to.equal(ZmtpErrorCode.AUTH_DENIED);
      await waitFor(() => status !== undefined, 'libzmq auth failure event');
      expect(status).to.equal(400);
    } finally {
      d.close();
      await router.close();
    }
  });

  it('a libzmq CURVE server whose ZAP handler denies us: PEER_ERROR "400", no retry', async () => {
    const zap = new zmq.Reply();
    await zap.bind('inproc://zeromq.zap.01');
    const creds: Buffer[] = [];
    void (async () => {
      for await (const frames of zap) {
        creds.push(frames[6]!);
        await zap.send([frames[0]!, frames[1]!, '400', 'denied', '', '']);
      }
    })().catch(() => {});
    const server = zmq.curveKeyPair();
    const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, zapDomain: 'test' });
    await router.bind('tcp://127.0.0.1:0');
    const me = generateKeypair();
    const d = new ZmtpDealer({ mechanism: curveClient({ serverKey: z85Decode(server.publicKey), secretKey: me.secretKey }), reconnectInterval: 10 });
    try {
      const failed = once<[ZmtpError]>(d, 'failed');
      d.connect(router.lastEndpoint!);
      const [err] = await failed;
      expect(err.code).to.equal(ZmtpErrorCode.PEER_ERROR);
      expect(err.message).to.include('ERROR 400');
      expect(creds).to.have.length(1);
      expect(Buffer.from(creds[0]!)).to.deep.equal(Buffer.from(me.publicKey)); // ZAP saw our long-term key
      expect(d.state).to.equal('failed');
    } finally {
      await d.close();
      router.close();
      zap.close();
    }
  });

  it('a wrong server key: libzmq drops us after HELLO; the attempt fails (no hang) and other clients are unaffected', async () => {
    const server = zmq.curveKeyPair();
    const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey });
    await router.bind('tcp://127.0.0.1:0');
    const wrong = generateKeypair();
    const me = generateKeypair();
    const bad = new ZmtpDealer({ mechanism: curveClient({ serverKey: wrong.publicKey, secretKey: me.secretKey }), reconnectInterval: 10_000 });
    const good = new ZmtpDealer({ mechanism: curveClient({ serverKey: z85Decode(server.publicKey), secretKey: me.secretKey }), identity: Buffer.from('Lgood') });
    try {
      const failed = once<[ZmtpError, number]>(bad, 'connect-failed');
      bad.connect(router.lastEndpoint!);
      const [err] = await failed;
      expect(err.code).to.be.oneOf([ZmtpErrorCode.TRANSPORT, ZmtpErrorCode.HANDSHAKE_TIMEOUT]);
      good.connect(router.lastEndpoint!);
      good.send(['fine']);
      const [id, body] = await router.receive();
      expect(id!.toString()).to.equal('Lgood');
      expect(body!.toString()).to.equal('fine');
    } finally {
      await bad.close();
      await good.close();
      router.close();
    }
  });
});
