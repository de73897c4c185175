/**
 * The gateway: WebSocket clients (ws+CURVE) → Gateway → an OxenMQ node over curve:// (tcp).
 * Forwarded requests and their replies, the node's error replies passed on, commands no route
 * forwards or the client's level may not use, the gateway's own Allow and Origin list, and the
 * per-connection in-flight bound.
 */
import { expect } from 'chai';
import { AuthLevel } from '../../lib/auth.js';
import { OmqErrorCode } from '../../lib/errors.js';
import { Gateway, type GatewayOptions } from '../../lib/gateway.js';
import { toHex } from '../../lib/oxenc/index.js';
import type { OxenMQ } from '../../lib/oxenmq.js';
import { Harness, rejection, strs, waitFor } from '../helpers/omq.js';
import { examples, runExample } from '../helpers/examples.js';
import { RawWs } from '../helpers/ws.js';
import { nodeBuf } from '../helpers/bytes.js';

describe('lib/gateway (ws+CURVE pages → gateway → OxenMQ node over curve://)', () => {
  const h = new Harness();
  afterEach(() => h.closeAll());

  /** A node whose rpc.* answers, admin.* needs admin, and rpc.hold waits until released. */
  async function node(): Promise<{ omq: OxenMQ; address: string; held: (() => void)[]; seen: string[] }> {
    const held: (() => void)[] = [];
    const seen: string[] = [];
    const s = await h.server('curve', (o) => {
      o.addCategory('rpc', AuthLevel.none)
        .addRequestCommand('echo', (m) => {
          seen.push(...strs(m.data));
          m.sendReply('echo', ...m.data);
        })
        .addRequestCommand('hold', (m) => {
          const later = m.sendLater();
          held.push(() => later.reply('released'));
        });
      o.addCategory('admin', AuthLevel.admin).addRequestCommand('secret', (m) => m.sendReply('no'));
    });
    return { omq: s.omq, address: s.address, held, seen };
  }

  async function gateway(upstream: string, opts: Partial<GatewayOptions> = {}): Promise<{ gw: Gateway; address: string }> {
    const gw = await Gateway.start({ listen: 'ws://127.0.0.1:0/omq', upstream, forward: ['rpc.', { prefix: 'admin.', auth: 'basic' }], oxenmq: { logger: { warn() {}, error() {} } }, ...opts });
    h.defer(() => gw.close());
    return { gw, address: `ws+curve://${gw.endpoints[0]!.slice('ws://'.length)}/${toHex(gw.pubkey)}` };
  }

  it('forwards requests and their replies; the node sees the gateway, the client the node', async () => {
    const n = await node();
    const { gw, address } = await gateway(n.address);
    expect(gw.endpoints[0]).to.match(/^ws:\/\/127\.0\.0\.1:[1-9][0-9]*\/omq$/);
    const c = await h.client();
    const id = await c.connectRemote(address);
    const big = Buffer.alloc(200 * 1024, 3);
    const [tag, a, b] = await c.request(id, 'rpc.echo', ['x', big]);
    expect(tag!.toString()).to.equal('echo');
    expect(a!.toString()).to.equal('x');
    expect(nodeBuf(b!).equals(big)).to.equal(true);
    expect(n.seen[0]).to.equal('x');
    // Two clients at once, replies to the right one.
    const c2 = await h.client();
    const id2 = await c2.connectRemote(address);
    const [r1, r2] = await Promise.all([c.request(id, 'rpc.echo', ['one']), c2.request(id2, 'rpc.echo', ['two'])]);
    expect(strs(r1)).to.deep.equal(['echo', 'one']);
    expect(strs(r2)).to.deep.equal(['echo', 'two']);
  });

  it('a command no route forwards fails at once with UNKNOWNCOMMAND, one the level may not use with FORBIDDEN; the node refusing is passed on', async () => {
    const n = await node();
    const levels = [AuthLevel.none, AuthLevel.basic];
    const { address } = await gateway(n.address, { allow: () => levels.shift() ?? AuthLevel.none });
    const c = await h.client();
    const id = await c.connectRemote(address); // auth none
    expect((await rejection(c.request(id, 'other.thing', [], { timeout: 5000 }))).code).to.equal('UNKNOWNCOMMAND');
    expect((await rejection(c.request(id, 'admin.secret', [], { timeout: 5000 }))).code).to.equal('FORBIDDEN');
    const c2 = await h.client();
    const id2 = await c2.connectRemote(address); // auth basic: the gateway lets it through, the node (admin) refuses
    expect((await rejection(c2.request(id2, 'admin.secret', [], { timeout: 5000 }))).code).to.equal('FORBIDDEN');
  });

  it("the gateway's Allow denies, and its Origin list refuses other pages", async () => {
    const n = await node();
    const { gw, address } = await gateway(n.address, { allow: (addr) => (addr === '127.0.0.1' ? AuthLevel.denied : AuthLevel.none), allowOrigin: ['https://app.example'] });
    const c = await h.client();
    expect((await rejection(c.connectRemote(address, { timeout: 2000 }))).code).to.equal(OmqErrorCode.CONNECT_FAILED);
    const evil = new RawWs(gw.endpoints[0]!, 'ZWS2.0/CURVE', { origin: 'https://evil.example' });
    h.defer(() => evil.close());
    expect(await evil.opened).to.equal(false);
    expect(evil.log.status).to.equal(403);
    const good = new RawWs(gw.endpoints[0]!, 'ZWS2.0/CURVE', { origin: 'https://app.example' });
    h.defer(() => good.close());
    expect(await good.opened).to.equal(true);
  });

  it('a client over its in-flight limit is disconnected; the others are served', async () => {
    const n = await node();
    const { gw, address } = await gateway(n.address, { maxInflight: 2 });
    const c = await h.client();
    const id = await c.connectRemote(address);
    const closes: string[] = [];
    c.on('disconnect', (e) => closes.push(e.reason));
    const pending = [1, 2, 3].map(() => c.request(id, 'rpc.hold', [], { timeout: 3000 }).catch((e: { code?: string }) => e.code));
    await waitFor(() => closes.length === 1, 'the disconnect');
    await waitFor(() => n.held.length === 2, 'two requests reach the node');
    expect(n.held).to.have.length(2);
    const other = await h.client();
    const oid = await other.connectRemote(address);
    expect(strs(await other.request(oid, 'rpc.echo', ['ok']))).to.deep.equal(['echo', 'ok']);
    expect(gw.connections).to.be.at.least(1);
    for (const release of n.held) release();
    void pending;
  });

  it('the @example of lib/gateway.ts runs to completion', async () => {
    const blocks = examples('lib/gateway.ts');
    expect(blocks).to.have.length(1);
    await runExample(blocks[0]!, { 'oxenmq-ts': 'dist/lib/index.js' });
  });

  it('start() fails with CONNECT_FAILED when the node cannot be reached, and checks its options', async () => {
    const err = await rejection(
      Gateway.start({ listen: 'ws://127.0.0.1:0/', upstream: `curve://127.0.0.1:1/${'ab'.repeat(32)}`, forward: ['rpc.'], oxenmq: { remoteConnectTimeout: 300, logger: { warn() {}, error() {} } } }),
    );
    expect(err.code).to.equal(OmqErrorCode.CONNECT_FAILED);
    const bad = await rejection(Gateway.start({ listen: 'ws://127.0.0.1:0/', upstream: 'tcp://127.0.0.1:1', forward: [] }));
    expect(bad.code).to.equal(OmqErrorCode.INVALID_ARGUMENT);
  });
});
