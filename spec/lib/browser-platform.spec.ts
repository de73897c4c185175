/**
 * What an instance does on a platform without listeners, worker threads or tcp:// (a browser's),
 * run under Node with the browser connector over the `ws` package's WebSocket (the same API).
 */
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { OxenMQ as OxenMQCore } from '../../lib/core.js';
import { Batch, type JobResult } from '../../lib/jobs/index.js';
import { OxenMQ } from '../../lib/oxenmq.js';
import { AuthLevel } from '../../lib/auth.js';
import { toHex } from '../../lib/oxenc/index.js';
import { browserConnector } from '../../zmtp/ws-browser.js';

const quiet = { warn() {}, error() {} };

describe('lib on a browser-like platform (no listeners, no worker threads, ws only)', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });
  function pageInstance(): OxenMQCore {
    const o = new OxenMQCore({ logger: quiet }, { connector: browserConnector(WebSocket as never), parallelism: 1 });
    open.push(o);
    return o;
  }

  it('listenPlain and listenCurve throw ERR_OMQ_UNSUPPORTED at the call; start() still works', async () => {
    const o = pageInstance();
    expect(() => o.listenCurve('ws://127.0.0.1:0/x')).to.throw().with.property('code', 'ERR_OMQ_UNSUPPORTED');
    expect(() => o.listenPlain('ws://127.0.0.1:0/x')).to.throw().with.property('code', 'ERR_OMQ_UNSUPPORTED');
    await o.start();
  });

  it('a tcp:// address fails to connect with ERR_OMQ_CONNECT_FAILED, cause ERR_ZMTP_BAD_ENDPOINT; ws+curve:// works', async () => {
    const server = new OxenMQ({ logger: quiet });
    open.push(server);
    server.addCategory('rpc', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data));
    const ws = server.listenCurve('ws://127.0.0.1:0/x');
    const tcp = server.listenCurve('tcp://127.0.0.1:0');
    await server.start();
    const o = pageInstance();
    await o.start();
    const err = await o.connectRemote(`curve://${(await tcp).slice('tcp://'.length)}/${toHex(server.pubkey)}`, { timeout: 2000 }).then(() => null, (e: unknown) => e);
    expect(err).to.have.property('code', 'ERR_OMQ_CONNECT_FAILED');
    expect((err as Error).cause).to.have.property('code', 'ERR_ZMTP_BAD_ENDPOINT');
    const conn = await o.connectRemote(`ws+curve://${(await ws).slice('ws://'.length)}/${toHex(server.pubkey)}`);
    const reply = await o.request(conn, 'rpc.echo', ['over the browser stream']);
    expect(new TextDecoder().decode(reply[0])).to.equal('over the browser stream');
  });

  it('a worker job fails with ERR_OMQ_UNSUPPORTED; plain batch jobs run', async () => {
    const o = pageInstance();
    await o.start();
    const results = await new Promise<JobResult<unknown>[]>((resolve) => {
      o.batch(new Batch<unknown>().addJob(() => 7).addWorkerJob({ module: new URL('file:///nowhere.js') }).completion(resolve));
    });
    expect(results[0]!.get()).to.equal(7);
    expect(() => results[1]!.get()).to.throw().with.property('code', 'ERR_OMQ_UNSUPPORTED');
  });
});
