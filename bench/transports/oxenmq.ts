/**
 * The OxenMQ layer as a bench peer for `reqrep`: a `bench.echo` request command that replies with
 * the request's parts, and a client that keeps `inflight` requests outstanding through the
 * public promise API.
 */
import { performance } from 'node:perf_hooks';
import { OxenMQ } from '../../lib/index.js';
import { checkPayload, makePayload } from '../payload.js';
import type { ClientResult, ClientSpec, ServeSpec } from '../protocol.js';
import { Stopwatch } from '../stopwatch.js';
import { Budget, RttRecorder, type RunningServer, withTimeout } from './common.js';

function create(keys?: { pubkey: string; privkey: string }): OxenMQ {
  // Heartbeats off, as for the wire-level peers: a PING mid-run is noise.
  return new OxenMQ({ connHeartbeat: 0, ...keys });
}

/** Starts an OxenMQ with a `bench.echo` request command, listening in plaintext or CURVE. */
export async function serve(spec: ServeSpec): Promise<RunningServer> {
  const curve = spec.curve;
  const omq = create(curve ? { pubkey: curve.serverPublic, privkey: curve.serverSecret } : undefined);
  omq.addCategory('bench', 'none').addRequestCommand('echo', (msg) => msg.sendReply(...msg.data));
  const bound = curve ? omq.listenCurve(spec.endpoint) : omq.listenPlain(spec.endpoint);
  await omq.start();
  return { endpoint: await bound, close: () => omq.close() };
}

/** Keeps `inflight` `bench.echo` requests outstanding until the budget is spent. */
export async function run(spec: ClientSpec): Promise<ClientResult> {
  if (spec.mode !== 'rt') throw new Error('the oxenmq peer only runs request/reply');
  const curve = spec.curve;
  const omq = create(curve ? { pubkey: curve.clientPublic, privkey: curve.clientSecret } : undefined);
  try {
    await omq.start();
    // A curve address carries the server key: curve://host:port/<hex pubkey>.
    const address = curve ? spec.endpoint.replace(/^tcp:\/\//, 'curve://') + '/' + curve.serverPublic : spec.endpoint;
    const conn = await withTimeout(omq.connectRemote(address), 10_000, 'connectRemote');
    await omq.request(conn, 'bench.echo', [Buffer.from('warm-up')]);
    const budget = new Budget(spec.durationMs, spec.count);
    const rec = new RttRecorder();
    let sent = 0;
    let completed = 0;
    let bad = 0;
    const sw = new Stopwatch();
    budget.start();
    // Each lane checks its own reply rather than assuming the replies come back in order.
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
    return { sent, completed, ...sw.read(), bad, rtt: rec.summary() };
  } finally {
    await omq.close();
  }
}
