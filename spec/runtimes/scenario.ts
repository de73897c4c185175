/**
 * One program every runtime must run the same way (Node, Bun and Deno, spawned by
 * runtimes.spec.ts): a plain and a CURVE echo over TCP, an echo over ipc, and a batch with a
 * worker-thread job. It prints one JSON line with what it saw, and exits non-zero on any error.
 */
import { AuthLevel, Batch, type JobResult, OxenMQ } from '../../lib/index.js';

const [ipcPath, jobsUrl] = process.argv.slice(2);
if (!ipcPath || !jobsUrl) throw new Error('usage: scenario IPC_PATH JOBS_URL');
const quiet = { warn() {}, error() {} };

const server = new OxenMQ({ logger: quiet, connHeartbeat: 0 });
server.addCategory('x', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply(...m.data));
const plain = server.listenPlain('tcp://127.0.0.1:0');
const curve = server.listenCurve('tcp://127.0.0.1:0');
const ipc = server.listenPlain(`ipc://${ipcPath}`);
await server.start();
const client = new OxenMQ({ logger: quiet, connHeartbeat: 0 });
await client.start();
try {
  const port = (ep: string) => ep.split(':').at(-1);
  const echo = async (address: string, text: string) => {
    const conn = await client.connectRemote(address);
    const reply = await client.request(conn, 'x.echo', [text, new Uint8Array([0, 255])]);
    return reply.map((b) => Buffer.from(b).toString('hex'));
  };
  const out = {
    plain: await echo(await plain, 'plain'),
    curve: await echo(`curve://127.0.0.1:${port(await curve)}/${Buffer.from(server.pubkey).toString('hex')}`, 'curve'),
    ipc: await echo(await ipc, 'ipc'),
    worker: await new Promise<unknown>((resolve) => {
      const batch = new Batch<number>().addWorkerJob({ module: jobsUrl, export: 'countPrimes', args: [1000], timeoutMs: 20_000 });
      batch.completion(([r]: JobResult<number>[]) => resolve(r!.ok ? r!.value : String(r!.error)));
      client.batch(batch);
    }),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  await client.close(0);
  await server.close(0);
}
