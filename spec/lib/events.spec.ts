/**
 * Lifecycle events: listeners bound and closed, peers accepted and closed, outgoing connections
 * up and down (with reconnects), failed attempts and failed incoming handshakes; a listener that
 * throws is logged and changes nothing; the diagnostics channels see the same opens and closes.
 */
import { expect } from 'chai';
import * as dc from 'node:diagnostics_channel';
import { AuthLevel, type OxenMQ, type OxenMQEvents } from '../../lib/index.js';
import { freePort } from '../helpers/net.js';
import { Harness, RecordingLogger, waitFor } from '../helpers/omq.js';

type Seen = { name: keyof OxenMQEvents; event: Record<string, unknown> };

function record(o: OxenMQ): Seen[] {
  const seen: Seen[] = [];
  for (const name of ['connect', 'disconnect', 'connect-failed', 'accept', 'close', 'handshake-failed', 'listening', 'listener-closed'] as const) {
    o.on(name, (event) => void seen.push({ name, event: event as unknown as Record<string, unknown> }));
  }
  return seen;
}
const names = (seen: Seen[]) => seen.map((s) => s.name);

describe('lib: lifecycle events', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  it('listening, accept, connect, then disconnect and close, then listener-closed', async () => {
    const server = h.omq();
    server.addCategory('x', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data));
    const sSeen = record(server);
    const endpoint = server.listenCurve('tcp://127.0.0.1:0');
    await server.start();
    const ep = await endpoint;
    expect(sSeen[0]).to.deep.equal({ name: 'listening', event: { endpoint: ep, curve: true } });
    const client = await h.client();
    const cSeen = record(client);
    const conn = await client.connectRemote(`curve://${ep.slice('tcp://'.length)}/${Buffer.from(server.pubkey).toString('hex')}`);
    expect(names(cSeen)).to.deep.equal(['connect']);
    const up = cSeen[0]!.event as OxenMQEvents['connect'];
    expect(up.conn.equals(conn)).to.equal(true);
    expect(up.address).to.equal(ep);
    await waitFor(() => sSeen.some((s) => s.name === 'accept'), 'accept');
    const accept = sSeen.find((s) => s.name === 'accept')!.event as OxenMQEvents['accept'];
    expect(Buffer.from(accept.conn.pubkey).equals(Buffer.from(client.pubkey))).to.equal(true);
    expect(accept.address).to.equal('127.0.0.1');
    client.disconnect(conn, 0);
    expect(cSeen[1]).to.deep.include({ name: 'disconnect' });
    expect(cSeen[1]!.event).to.deep.include({ reconnecting: false });
    await waitFor(() => sSeen.some((s) => s.name === 'close'), 'close');
    expect((sSeen.find((s) => s.name === 'close')!.event as OxenMQEvents['close']).conn.equals(accept.conn)).to.equal(true);
    await server.close(0);
    expect(names(sSeen).at(-1)).to.equal('listener-closed');
  });

  it('a transport drop is a disconnect with reconnecting: true, and the reconnect a new connect', async () => {
    const port = await freePort();
    const first = h.omq();
    const at = `tcp://127.0.0.1:${port}`;
    void first.listenPlain(at);
    await first.start();
    const client = await h.client({ reconnectInterval: 10, reconnectIntervalMax: 20 });
    const seen = record(client);
    await client.connectRemote(at);
    await first.close(0);
    await waitFor(() => names(seen).includes('disconnect'), 'the drop');
    expect(seen.find((s) => s.name === 'disconnect')!.event).to.deep.include({ reconnecting: true });
    const second = h.omq();
    void second.listenPlain(at);
    await second.start();
    await waitFor(() => names(seen).filter((n) => n === 'connect').length === 2, 'the reconnect');
  });

  it('connect-failed reports each failed attempt: a refused port (retried), a denial (not retried)', async () => {
    const client = await h.client({ reconnectInterval: 50 });
    const seen = record(client);
    const port = await freePort();
    const pending = client.connectRemote(`tcp://127.0.0.1:${port}`, { timeout: 60_000 }).catch(() => 'failed');
    await waitFor(() => names(seen).includes('connect-failed'), 'a refused attempt');
    const refused = seen.find((s) => s.name === 'connect-failed')!.event as OxenMQEvents['connect-failed'];
    expect(refused.address).to.equal(`tcp://127.0.0.1:${port}`);
    expect(refused.retryInMs).to.be.above(0);
    expect((refused.error as { code?: string }).code).to.equal('ERR_ZMTP_TRANSPORT');
    client.disconnect(refused.conn, 0);
    expect(await pending).to.equal('failed');

    const server = await h.server('plain', () => {}, { allow: () => AuthLevel.denied });
    const sSeen = record(server.omq);
    expect(await client.connectRemote(server.address).catch((e: { code: string }) => e.code)).to.equal('ERR_OMQ_CONNECT_FAILED');
    const denied = seen.filter((s) => s.name === 'connect-failed').at(-1)!.event as OxenMQEvents['connect-failed'];
    expect(denied.retryInMs).to.equal(-1);
    await waitFor(() => names(sSeen).includes('handshake-failed'), 'the server side');
    expect((sSeen.find((s) => s.name === 'handshake-failed')!.event.error as { code?: string }).code).to.equal('ERR_ZMTP_AUTH_DENIED');
    // The connection was never up: no connect or disconnect for it.
    expect(names(seen).filter((n) => n === 'connect' || n === 'disconnect')).to.deep.equal([]);
  });

  it('a listener that throws is logged and neither stops other listeners nor the connection', async () => {
    const log = new RecordingLogger();
    const server = await h.server('plain');
    const client = await h.client({ logger: log });
    const after: string[] = [];
    client.on('connect', () => {
      throw new Error('listener bug');
    });
    client.on('connect', () => void after.push('second listener ran'));
    await client.connectRemote(server.address);
    expect(after).to.deep.equal(['second listener ran']);
    expect(log.matching('"connect" event threw', 'error')).to.have.length(1);
  });

  it('oxenmq:connection:open/close carry the same opens and closes, both directions', async () => {
    const got: { direction: string; kind: string }[] = [];
    const open = (m: unknown) => got.push({ direction: (m as { direction: string }).direction, kind: 'open' });
    const close = (m: unknown) => got.push({ direction: (m as { direction: string }).direction, kind: 'close' });
    dc.subscribe('oxenmq:connection:open', open);
    dc.subscribe('oxenmq:connection:close', close);
    try {
      const server = await h.server('plain');
      const client = await h.client();
      const conn = await client.connectRemote(server.address);
      await waitFor(() => got.length === 2, 'both opens');
      client.disconnect(conn, 0);
      await waitFor(() => got.length === 4, 'both closes');
      expect(got.map((g) => `${g.direction} ${g.kind}`).sort()).to.deep.equal(['incoming close', 'incoming open', 'outgoing close', 'outgoing open']);
    } finally {
      dc.unsubscribe('oxenmq:connection:open', open);
      dc.unsubscribe('oxenmq:connection:close', close);
    }
  });
});
