/**
 * A peer that dies part-way: it writes part of a greeting, of a handshake command or of a frame
 * and then destroys its socket. Both roles: our listener (ZmtpRouter) facing a dying client, and
 * our connecting side (ZmtpDealer) facing a dying server. Each time the survivor reports a typed
 * reason, frees the connection, and the next, well-behaved connection works.
 */
import { expect } from 'chai';
import net from 'node:net';
import { ManualClock } from '../../zmtp/clock.js';
import { ZmtpError, ZmtpErrorCode } from '../../zmtp/errors.js';
import { type Peer } from '../../zmtp/index.js';
import { ZmtpDealer, ZmtpRouter } from '../../zmtp/node.js';
import { waitFor } from '../helpers/net.js';
import { portOf } from '../helpers/omq.js';
import { MechanismPeer, type Security, factoryFor, keysFor } from './mechanism-peer.js';

/** Where the dying peer stops. */
type Cut = 'greeting' | 'first command' | 'second command' | 'frame' | 'multipart';

const CUTS: Record<Security, Cut[]> = {
  NULL: ['greeting', 'first command', 'frame', 'multipart'],
  CURVE: ['greeting', 'first command', 'second command', 'frame', 'multipart'],
};
const afterHandshake = (cut: Cut) => cut === 'frame' || cut === 'multipart';

/** What the part-written handshake command is, for the spec names. */
const COMMAND_NAME: Record<Security, Record<'client' | 'server', string[]>> = {
  NULL: { client: ['READY'], server: ['READY'] },
  CURVE: { client: ['HELLO', 'INITIATE'], server: ['WELCOME', 'READY'] },
};

function describeCut(cut: Cut, security: Security, role: 'client' | 'server'): string {
  if (cut === 'greeting') return '10 bytes of its greeting';
  if (cut === 'frame') return 'the handshake, then half of a 300-byte message frame';
  if (cut === 'multipart') return 'the handshake, then the first frame (MORE) of a two-part message';
  const name = COMMAND_NAME[security][role][cut === 'first command' ? 0 : 1];
  return `its greeting${cut === 'second command' ? ` and ${COMMAND_NAME[security][role][0]}` : ''}, then half of ${name}`;
}

/** Drives `peer` to `cut`, writes half of what comes next and kills the socket. */
async function dieAt(peer: MechanismPeer, cut: Cut): Promise<void> {
  if (cut === 'greeting') {
    // A connecting side's first command comes with its greeting: hold any answer to it.
    peer.sendFirst = 0;
    peer.write(peer.greeting.subarray(0, 10));
  } else if (afterHandshake(cut)) {
    peer.write(peer.greeting);
    await peer.until(() => peer.ready, 'the peer’s handshake');
    if (cut === 'frame') {
      const frame = peer.message('x'.repeat(300));
      peer.write(frame.subarray(0, frame.length >> 1));
    } else {
      const first = peer.message('first', 'second');
      // The first frame alone: its header says MORE, and the second never comes.
      peer.write(first.subarray(0, first.length - peer.message('second').length));
    }
  } else {
    const first = cut === 'first command' ? 0 : 1;
    peer.sendFirst = first;
    peer.write(peer.greeting);
    // The client's nth command follows the server's (n−1)th; a server's first follows the greeting.
    const needed = peer.role === 'client' ? first : first + 1;
    await peer.until(() => peer.commands.length >= needed && (peer.role === 'server' || peer.greetingReceived), 'the other side’s handshake step');
    await peer.until(() => peer.heldCount > 0, 'the command to cut');
    const held = peer.takeHeld();
    peer.write(held.subarray(0, held.length >> 1));
  }
  // Give the bytes time to leave before the RST/FIN (they travel in order on loopback anyway).
  await new Promise<void>((r) => peer.socket.write(Buffer.alloc(0), () => r()));
  peer.kill();
}

/** The router's open connections, handshaken or not (its internal set, which must empty). */
const openConnections = (r: ZmtpRouter): number => (r as unknown as { connections: Set<unknown> }).connections.size;

for (const security of ['NULL', 'CURVE'] as const) {
  describe(`fault: peer death, ${security}, our listener`, () => {
    let router: ZmtpRouter;
    let port: number;
    const keys = keysFor();
    const failed: ZmtpError[] = [];
    const gone: (ZmtpError | null)[] = [];
    const connected: Peer[] = [];
    const messages: string[][] = [];

    beforeEach(async () => {
      failed.length = gone.length = connected.length = messages.length = 0;
      router = new ZmtpRouter({ heartbeatInterval: 0, mechanism: factoryFor(security, 'server', keys) });
      router.onMessage = (frames) => messages.push(frames.map((f) => f.toString()));
      router.on('handshake-failed', (err) => failed.push(err));
      router.on('connect', (p) => connected.push(p));
      router.on('disconnect', (_p, _r, err) => gone.push(err));
      port = portOf(await router.bind('tcp://127.0.0.1:0'));
    });
    afterEach(() => router.close(0));

    for (const cut of CUTS[security]) {
      it(`a client that sends ${describeCut(cut, security, 'client')} and dies: a typed reason, the connection freed, the next client served`, async () => {
        const dying = await MechanismPeer.connect(port, security, factoryFor(security, 'client', keysFor(), keys.publicKey));
        await dieAt(dying, cut);
        if (afterHandshake(cut)) {
          await waitFor(() => gone.length === 1, 'the disconnect');
          expect(connected).to.have.length(1);
          expect(gone[0]).to.be.instanceOf(ZmtpError);
          expect(gone[0]!.code).to.equal(ZmtpErrorCode.TRANSPORT);
          expect(messages, 'no part of the cut message is delivered').to.deep.equal([]);
        } else {
          await waitFor(() => failed.length === 1, 'the handshake failure');
          expect(failed[0]).to.be.instanceOf(ZmtpError);
          expect(failed[0]!.code).to.equal(ZmtpErrorCode.TRANSPORT);
          expect(connected, 'a dead handshake never connects').to.deep.equal([]);
        }
        await waitFor(() => openConnections(router) === 0, 'the connection to be freed');
        expect(router.size).to.equal(0);

        const good = await MechanismPeer.connect(port, security, factoryFor(security, 'client', keysFor(), keys.publicKey));
        good.write(good.greeting);
        await good.until(() => good.ready, 'the good client’s handshake');
        good.write(good.message('after', 'death'));
        await waitFor(() => messages.length === 1, 'the good client’s message');
        expect(messages[0]).to.deep.equal(['after', 'death']);
        expect(router.size).to.equal(1);
        good.kill();
      });
    }
  });

  describe(`fault: peer close between messages, ${security}`, () => {
    it('a client that closes after a whole message is an orderly disconnect (err null), its message delivered', async () => {
      const keys = keysFor();
      const router = new ZmtpRouter({ heartbeatInterval: 0, mechanism: factoryFor(security, 'server', keys) });
      const gone: (ZmtpError | null)[] = [];
      const messages: string[][] = [];
      router.onMessage = (frames) => messages.push(frames.map((f) => f.toString()));
      router.on('disconnect', (_p, _r, err) => gone.push(err));
      try {
        const port = portOf(await router.bind('tcp://127.0.0.1:0'));
        const peer = await MechanismPeer.connect(port, security, factoryFor(security, 'client', keysFor(), keys.publicKey));
        peer.write(peer.greeting);
        await peer.until(() => peer.ready, 'the handshake');
        peer.write(peer.message('whole', 'message'));
        await new Promise<void>((r) => peer.socket.end(r));
        await waitFor(() => gone.length === 1, 'the disconnect');
        expect(gone[0]).to.equal(null);
        expect(messages).to.deep.equal([['whole', 'message']]);
      } finally {
        await router.close(0);
      }
    });
  });

  describe(`fault: peer death, ${security}, our connecting side`, () => {
    const keys = keysFor();
    let server: net.Server;
    let accepted: net.Socket[];
    let port: number;
    let clock: ManualClock;
    let dealer: ZmtpDealer;

    beforeEach(async () => {
      accepted = [];
      server = net.createServer((s) => accepted.push(s));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
      clock = new ManualClock();
    });
    afterEach(async () => {
      await dealer.close(0);
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });

    for (const cut of CUTS[security]) {
      it(`a server that sends ${describeCut(cut, security, 'server')} and dies: a typed reason, a reconnect by itself, and the next server gets the queued message`, async () => {
        const attemptFailed: { err: ZmtpError; retryInMs: number }[] = [];
        const disconnects: (ZmtpError | null)[] = [];
        const received: string[][] = [];
        dealer = new ZmtpDealer({ heartbeatInterval: 0, clock, mechanism: factoryFor(security, 'client', keysFor(), keys.publicKey) });
        dealer.onMessage = (frames) => received.push(frames.map((f) => f.toString()));
        dealer.on('connect-failed', (err, retryInMs) => attemptFailed.push({ err, retryInMs }));
        dealer.on('disconnect', (err) => disconnects.push(err));
        dealer.connect(`tcp://127.0.0.1:${port}`);

        await waitFor(() => accepted.length === 1, 'the first connection');
        const dying = new MechanismPeer(accepted[0]!, security, 'server', factoryFor(security, 'server', keys));
        await dieAt(dying, cut);
        if (afterHandshake(cut)) {
          await waitFor(() => disconnects.length === 1, 'the disconnect');
          expect(disconnects[0]).to.be.instanceOf(ZmtpError);
          expect(disconnects[0]!.code).to.equal(ZmtpErrorCode.TRANSPORT);
          expect(received, 'no part of the cut message is delivered').to.deep.equal([]);
        } else {
          await waitFor(() => attemptFailed.length === 1, 'the failed attempt');
          expect(attemptFailed[0]!.err).to.be.instanceOf(ZmtpError);
          expect(attemptFailed[0]!.err.code).to.equal(ZmtpErrorCode.TRANSPORT);
          expect(attemptFailed[0]!.retryInMs).to.be.greaterThan(0);
        }
        expect(dealer.state).to.equal('waiting');
        // Sent while disconnected: queued, and delivered once the next server is up.
        dealer.send(['queued']);

        // The reconnect waits for its back-off on the injected clock, then happens by itself.
        clock.advance(5_000);
        await waitFor(() => accepted.length === 2, 'the reconnect');
        const good = new MechanismPeer(accepted[1]!, security, 'server', factoryFor(security, 'server', keys));
        good.write(good.greeting);
        await good.until(() => good.messages.length === 1, 'the queued message');
        expect(good.messages[0]!.map(String)).to.deep.equal(['queued']);
        good.write(good.message('reply'));
        await waitFor(() => received.length === 1, 'the reply');
        expect(received[0]).to.deep.equal(['reply']);
        expect(dealer.state).to.equal('ready');
      });
    }
  });
}
