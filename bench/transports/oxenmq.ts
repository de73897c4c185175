/**
 * The OxenMQ layer (lib/oxenmq.ts) as a bench peer for `reqrep`: a `bench.echo` request command
 * that replies with the request's parts, and a client that keeps `inflight` requests outstanding.
 * Written against the API shape in optional.ts; the case is skipped until lib/oxenmq.ts exists.
 */
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseEndpoint } from '../../zmtp/index.js';
import { type OmqInstance, loadOxenmq } from '../optional.js';
import { checkPayload, makePayload } from '../payload.js';
import type { ClientResult, ClientSpec, ServeSpec } from '../protocol.js';
import { Budget, RttRecorder, type RunningServer, withTimeout } from './common.js';

async function create(keys?: { pubkey: string; privkey: string }): Promise<OmqInstance> {
  const m = await loadOxenmq();
  if (!m.ok) throw new Error(m.reason);
  // Heartbeats off, as for the wire-level peers: a PING mid-run is noise.
  return new m.mod.OxenMQ({ connHeartbeat: 0, ...keys });
}

async function shutdown(omq: OmqInstance): Promise<void> {
  if (typeof omq.close === 'function') await omq.close();
  else if (typeof omq.stop === 'function') await omq.stop();
}

/**
 * A free port on `host`: bind 0, read it, release it. Used because the API shape promises no
 * bound-endpoint return from listenPlain; the tiny race with other binders is acceptable here.
 */
async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  s.listen(0, host);
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Starts an OxenMQ with a `bench.echo` request command listening in plaintext. */
export async function serve(spec: ServeSpec): Promise<RunningServer> {
  const curve = spec.curve;
  const omq = await create(curve ? { pubkey: curve.serverPublic, privkey: curve.serverSecret } : undefined);
  omq.addCategory('bench', 'none').addRequestCommand('echo', (msg) => msg.sendReply(...msg.data));
  const ep = parseEndpoint(spec.endpoint);
  if (ep.transport !== 'tcp') throw new Error('reqrep supports tcp:// endpoints only');
  // listenPlain resolves with the bound endpoint once start() has bound it; should a version
  // return nothing, pick the port ourselves.
  const port = ep.port === 0 ? await freePort(ep.host) : ep.port;
  const requested = `tcp://${ep.host}:${port}`;
  const bound = curve ? omq.listenCurve(requested) : omq.listenPlain(requested);
  if (typeof omq.start === 'function') await omq.start();
  const actual = await bound;
  const endpoint = typeof actual === 'string' && actual.startsWith('tcp://') ? actual : requested;
  return { endpoint, close: () => shutdown(omq) };
}

/** Keeps `inflight` `bench.echo` requests outstanding until the budget is spent. */
export async function run(spec: ClientSpec): Promise<ClientResult> {
  if (spec.mode !== 'rt') throw new Error('the oxenmq peer only runs request/reply');
  const curve = spec.curve;
  const omq = await create(curve ? { pubkey: curve.clientPublic, privkey: curve.clientSecret } : undefined);
  try {
    if (typeof omq.start === 'function') await omq.start();
    // A curve address carries the server key: curve://host:port/<hex pubkey>.
    const address = curve ? spec.endpoint.replace(/^tcp:\/\//, 'curve://') + '/' + curve.serverPublic : spec.endpoint;
    const conn = await withTimeout(omq.connectRemote(address), 10_000, 'connectRemote');
    await omq.request(conn, 'bench.echo', [Buffer.from('warm-up')]);
    const budget = new Budget(spec.durationMs, spec.count);
    const rec = new RttRecorder();
    let sent = 0;
    let completed = 0;
    let bad = 0;
    const t0 = performance.now();
    budget.start();
    // Replies may come back in any order (handlers can run on several threads), so each lane
    // checks its own reply rather than assuming FIFO.
    const lane = async () => {
      while (budget.more(sent)) {
        const seq = sent++;
        const start = performance.now();
        const reply = await omq.request(conn, 'bench.echo', [makePayload(seq, spec.size)]);
        rec.record((performance.now() - start) * 1e6);
        if (reply.length !== 1 || !checkPayload(reply[0]!, seq, spec.size)) bad++;
        completed++;
      }
    };
    await Promise.all(Array.from({ length: spec.inflight }, lane));
    return { sent, completed, elapsedNs: (performance.now() - t0) * 1e6, bad, rtt: rec.summary() };
  } finally {
    await shutdown(omq);
  }
}
