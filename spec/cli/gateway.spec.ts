/**
 * `oxenmq gateway` as a child process: it prints its key and page addresses, forwards the given
 * prefixes to a node (an OxenMQ instance in this process, over curve://), answers others
 * UNKNOWNCOMMAND, and stops cleanly on SIGTERM; bad usage and an unreachable node are exit codes.
 */
import { expect } from 'chai';
import { AuthLevel, OxenMQ } from '../../lib/index.js';
import { toHex } from '../../lib/oxenc/index.js';
import { Serve, oxenmq, show } from './helpers.js';

const quiet = { warn() {}, error() {} };

describe('cli gateway', () => {
  it('forwards --forward prefixes from ws+curve:// clients to the node and stops on SIGTERM', async function () {
    this.timeout(20_000);
    const node = new OxenMQ({ logger: quiet });
    node.addCategory('rpc', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply('node', ...m.data));
    const bound = node.listenCurve('tcp://127.0.0.1:0');
    await node.start();
    const upstream = `curve://127.0.0.1:${(await bound).split(':').at(-1)}/${toHex(node.pubkey)}`;
    const gw = await Serve.start(['--json', '--listen', 'ws://127.0.0.1:0/omq', '--upstream', upstream, '--forward', 'rpc.'], (l) => l.length > 0, 'gateway');
    const client = new OxenMQ({ logger: quiet });
    try {
      const listening = JSON.parse(gw.lines[0]!) as { event: string; pubkey: string; addresses: string[]; forward: string[] };
      expect(listening.event).to.equal('listening');
      expect(listening.forward).to.deep.equal(['rpc.']);
      expect(listening.addresses[0]).to.match(new RegExp(`^ws\\+curve://127\\.0\\.0\\.1:[1-9]\\d*/omq/${listening.pubkey}$`));
      await client.start();
      const conn = await client.connectRemote(listening.addresses[0]!);
      expect((await client.request(conn, 'rpc.echo', ['hi'])).map(String)).to.deep.equal(['node', 'hi']);
      const err = await client.request(conn, 'other.x', [], { timeout: 5000 }).then(() => null, (e: { code?: string }) => e.code);
      expect(err).to.equal('UNKNOWNCOMMAND');
    } finally {
      await client.close(0);
      const r = await gw.stop('SIGTERM');
      await node.close(0);
      expect(r.code, show(r)).to.equal(0);
      expect(JSON.parse(gw.lines.at(-1)!)).to.deep.equal({ event: 'stopped' });
    }
  });

  it('exits 1 on bad usage and 4 when the node cannot be reached', async () => {
    const usage = await oxenmq(['gateway', '--listen', 'ws://127.0.0.1:0/', '--forward', 'rpc.']);
    expect(usage.code, show(usage)).to.equal(1);
    expect(usage.stderr).to.contain('--upstream');
    const down = await oxenmq(['gateway', '--listen', 'ws://127.0.0.1:0/', '--upstream', `curve://127.0.0.1:1/${'ab'.repeat(32)}`, '--forward', 'rpc.', '--connect-timeout', '300']);
    expect(down.code, show(down)).to.equal(4);
    expect(down.stderr).to.match(/^oxenmq gateway: /);
  });
});
