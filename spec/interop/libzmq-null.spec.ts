/**
 * Interop with real libzmq 4.3 (the `zeromq` package, a dev-only test peer) over NULL: both
 * directions, tcp and ipc, multipart with empty frames, frame sizes around the short/long
 * boundary and up to 1 MiB, identities and handover, heartbeats both ways, ZAP denial, and
 * reconnection with queued messages delivered.
 */
import { expect } from 'chai';
import * as zmq from 'zeromq';
import { type ZmtpError, ZmtpErrorCode } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { Relay, commandsIn, freePort, once, waitFor, listenEndpoint, nextMessage, nextRouted } from '../helpers/net.js';
import { Rng } from '../helpers/random.js';

const rng = new Rng(99);
const SIZES = [0, 1, 255, 256, 65_536, 1024 * 1024];
const PAYLOADS = SIZES.map((n) => rng.bytes(n));


for (const transport of ['tcp', 'ipc'] as const) {
  const endpoint = (name: string) => listenEndpoint(transport, name);

  describe(`interop/libzmq NULL over ${transport}`, () => {
    it('our DEALER ↔ libzmq ROUTER: identity, multipart with empty frames, sizes 0..1 MiB, both ways', async () => {
      const router = new zmq.Router();
      await router.bind(endpoint('r1'));
      const dealer = new ZmtpDealer({ identity: Buffer.from('Lclient-1') });
      try {
        dealer.connect(router.lastEndpoint!);
        dealer.send(['first', Buffer.alloc(0), ...PAYLOADS, Buffer.alloc(0)]);
        const [id, ...parts] = await router.receive();
        expect(id!.toString()).to.equal('Lclient-1');
        expect(parts).to.have.length(PAYLOADS.length + 3);
        expect(parts[0]!.toString()).to.equal('first');
        expect(parts[1]!.length).to.equal(0);
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(parts[i + 2]!, p)).to.equal(0, `size ${p.length}`));
        expect(parts.at(-1)!.length).to.equal(0);

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

    it('libzmq DEALER ↔ our ROUTER: route = announced identity, replies reach the right peer', async () => {
      const router = new ZmtpRouter();
      const ep = await router.bind(endpoint('r2'));
      const a = new zmq.Dealer({ routingId: 'peer-a' });
      const b = new zmq.Dealer({ routingId: 'peer-b' });
      try {
        a.connect(ep);
        b.connect(ep);
        let got = nextRouted(router);
        await a.send(['from-a', Buffer.alloc(0), ...PAYLOADS]);
        const m1 = await got;
        expect(m1.route.toString()).to.equal('peer-a');
        expect(m1.frames[1]!.length).to.equal(0);
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(m1.frames[i + 2]!, p)).to.equal(0, `size ${p.length}`));
        got = nextRouted(router);
        await b.send('from-b');
        expect((await got).route.toString()).to.equal('peer-b');

        router.send(Buffer.from('peer-b'), ['to-b', ...PAYLOADS]);
        router.send(Buffer.from('peer-a'), ['to-a']);
        const [toB, ...rest] = await b.receive();
        expect(toB!.toString()).to.equal('to-b');
        PAYLOADS.forEach((p, i) => expect(Buffer.compare(rest[i]!, p)).to.equal(0));
        expect((await a.receive())[0]!.toString()).to.equal('to-a');
      } finally {
        a.close();
        b.close();
        await router.close();
      }
    });

    it('an empty identity gets a generated 5-byte route starting with 0x00', async () => {
      const router = new ZmtpRouter();
      const ep = await router.bind(endpoint('r3'));
      const d = new zmq.Dealer();
      try {
        d.connect(ep);
        const got = nextRouted(router);
        await d.send('x');
        const { route } = await got;
        expect(route.length).to.equal(5);
        expect(route[0]).to.equal(0);
        router.send(route, ['y']);
        expect((await d.receive())[0]!.toString()).to.equal('y');
      } finally {
        d.close();
        await router.close();
      }
    });
  });
}

describe('interop/libzmq NULL: routing ids and handover', () => {
  it('a second libzmq DEALER with the same identity takes the route over on our ROUTER; the first gets nothing further', async () => {
    const router = new ZmtpRouter();
    const ep = await router.bind('tcp://127.0.0.1:0');
    // No reconnect for the first: once detached it must stay gone, or it would take the route back.
    const first = new zmq.Dealer({ routingId: 'same-id', reconnectInterval: -1 });
    const second = new zmq.Dealer({ routingId: 'same-id' });
    try {
      first.connect(ep);
      let got = nextRouted(router);
      await first.send('hello from first');
      await got;
      const disconnected = once(router, 'disconnect');
      second.connect(ep);
      got = nextRouted(router);
      await second.send('hello from second');
      const m = await got;
      expect(m.frames[0]!.toString()).to.equal('hello from second');
      await disconnected; // the old connection was detached and closed
      expect(router.size).to.equal(1);
      router.send(Buffer.from('same-id'), ['for the newcomer']);
      expect((await second.receive())[0]!.toString()).to.equal('for the newcomer');
    } finally {
      first.close();
      second.close();
      await router.close();
    }
  });

  it('sending to a route with no live connection is ERR_ZMTP_HOST_UNREACHABLE (ROUTER_MANDATORY)', async () => {
    const router = new ZmtpRouter();
    await router.bind('tcp://127.0.0.1:0');
    try {
      expect(() => router.send(Buffer.from('nobody'), ['x'])).to.throw().with.property('code', ZmtpErrorCode.HOST_UNREACHABLE);
    } finally {
      await router.close();
    }
  });

  it('libzmq ROUTER with handover hands our second DEALER the route', async () => {
    const router = new zmq.Router({ handover: true });
    await router.bind('tcp://127.0.0.1:0');
    const d1 = new ZmtpDealer({ identity: Buffer.from('Ldup') });
    const d2 = new ZmtpDealer({ identity: Buffer.from('Ldup') });
    try {
      d1.connect(router.lastEndpoint!);
      d1.send(['one']);
      expect((await router.receive())[1]!.toString()).to.equal('one');
      d2.connect(router.lastEndpoint!);
      d2.send(['two']);
      expect((await router.receive())[1]!.toString()).to.equal('two');
      const toD2 = nextMessage(d2);
      await router.send(['Ldup', 'to the newest']);
      expect((await toD2)[0]!.toString()).to.equal('to the newest');
    } finally {
      await d1.close();
      await d2.close();
      router.close();
    }
  });
});

describe('interop/libzmq NULL: heartbeats', () => {
  it('libzmq pings our ROUTER and we answer PONG (recorded on the wire)', async () => {
    const router = new ZmtpRouter({ heartbeatInterval: 0 });
    const ep = await router.bind('tcp://127.0.0.1:0');
    const relay = await Relay.start(Number(ep.split(':').at(-1)));
    const d = new zmq.Dealer({ heartbeatInterval: 20, heartbeatTimeout: 2000 });
    try {
      d.connect(relay.endpoint);
      await d.send('hi');
      await waitFor(() => commandsIn(relay.c2s).includes('PING') && commandsIn(relay.s2c).includes('PONG'), 'PING from libzmq and our PONG', 5000, relay);
      expect(commandsIn(relay.s2c)).to.not.include('PING'); // ours are off
    } finally {
      d.close();
      await relay.close();
      await router.close();
    }
  });

  it('our DEALER pings libzmq and libzmq answers PONG (recorded on the wire)', async () => {
    const router = new zmq.Router();
    await router.bind('tcp://127.0.0.1:0');
    const relay = await Relay.start(Number(router.lastEndpoint!.split(':').at(-1)));
    const d = new ZmtpDealer({ heartbeatInterval: 20, heartbeatTimeout: 2000 });
    try {
      d.connect(relay.endpoint);
      d.send(['hi']);
      await router.receive();
      await waitFor(() => commandsIn(relay.c2s).includes('PING') && commandsIn(relay.s2c).includes('PONG'), 'our PING and the PONG from libzmq', 5000, relay);
      expect(d.state).to.equal('ready');
    } finally {
      await d.close();
      await relay.close();
      router.close();
    }
  });
});

describe('interop/libzmq NULL: refusal and reconnection', () => {
  it('our ROUTER denying a libzmq DEALER: libzmq reports an auth failure with status 400', async () => {
    const router = new ZmtpRouter({ authenticate: () => false });
    const ep = await router.bind('tcp://127.0.0.1:0');
    const d = new zmq.Dealer();
    const events: string[] = [];
    let status: unknown;
    d.events.on('handshake:error:auth', (e) => {
      events.push(e.type);
      status = e.error.status;
    });
    try {
      const failed = once(router, 'handshake-failed');
      d.connect(ep);
      const [err] = (await failed) as [ZmtpError];
      expect(err.code).to.equal(ZmtpErrorCode.AUTH_DENIED);
      await waitFor(() => events.length > 0, 'libzmq auth failure event');
      expect(status).to.equal(400);
    } finally {
      d.close();
      await router.close();
    }
  });

  it('a libzmq ROUTER whose ZAP handler denies us: PEER_ERROR, no retry, sends fail at once', async () => {
    const zap = new zmq.Reply();
    await zap.bind('inproc://zeromq.zap.01');
    let zapRequests = 0;
    void (async () => {
      for await (const [version, id] of zap) {
        zapRequests++;
        await zap.send([version!, id!, '400', 'denied', '', '']);
      }
    })().catch(() => {});
    const router = new zmq.Router({ zapDomain: 'test' });
    await router.bind('tcp://127.0.0.1:0');
    const d = new ZmtpDealer({ reconnectInterval: 10 });
    try {
      const failed = once<[ZmtpError]>(d, 'failed');
      d.connect(router.lastEndpoint!);
      d.send(['queued before the refusal']);
      const [err] = await failed;
      expect(err.code).to.equal(ZmtpErrorCode.PEER_ERROR);
      expect(err.message).to.include('ERROR 400');
      expect(d.state).to.equal('failed');
      expect(() => d.send(['after'])).to.throw().with.property('code', ZmtpErrorCode.CLOSED);
      expect(zapRequests).to.equal(1);
    } finally {
      await d.close();
      router.close();
      zap.close();
    }
  });

  it('reconnects after the libzmq peer restarts and delivers what was queued meanwhile', async () => {
    const port = await freePort();
    const ep = `tcp://127.0.0.1:${port}`;
    let router = new zmq.Router();
    await router.bind(ep);
    const d = new ZmtpDealer({ identity: Buffer.from('Lre'), reconnectInterval: 10, reconnectIntervalMax: 50 });
    try {
      d.connect(ep);
      d.send(['before']);
      expect((await router.receive())[1]!.toString()).to.equal('before');
      const gone = once(d, 'disconnect');
      router.close();
      await gone;
      for (let i = 0; i < 5; i++) d.send([`queued-${i}`]);
      expect(d.queued).to.equal(5);
      router = new zmq.Router();
      await router.bind(ep);
      for (let i = 0; i < 5; i++) {
        const [id, body] = await router.receive();
        expect(id!.toString()).to.equal('Lre');
        expect(body!.toString()).to.equal(`queued-${i}`);
      }
    } finally {
      await d.close();
      router.close();
    }
  });
});
