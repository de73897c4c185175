/**
 * The OxenMQ layer as a bench peer for `reqrep`: a `bench.echo` request command that replies with
 * the request's parts, and two clients that keep `inflight` requests outstanding:
 * - `oxenmq`: what users write, `await omq.request(conn, 'bench.echo', [payload])` per request
 *   (a tag, a pending-request entry and a promise each, its own OxenMQ instance and connection);
 * - `oxenmq-raw`: a bare DEALER sending the request frames `[bench.echo][tag][payload]` and reading
 *   `[REPLY][tag][payload]` itself, so the server is driven as hard as a client can: the gap
 *   between the two is what the public promise API costs per request.
 */
import { performance } from 'node:perf_hooks';
import { OxenMQ } from '../../lib/index.js';
import { checkPayload, makePayload } from '../payload.js';
import type { ClientResult, ClientSpec, ServeSpec } from '../protocol.js';
import { Stopwatch } from '../stopwatch.js';
import { Budget, RttRecorder, type RunningServer, withTimeout } from './common.js';
import { dealerRoundTrips } from './ours.js';

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

const COMMAND = Buffer.from('bench.echo');
const REPLY = Buffer.from('REPLY');

/** The raw client: the tag is the request's seq, so a reply says which request it answers. */
function raw(spec: ClientSpec): Promise<ClientResult> {
  return dealerRoundTrips(spec, {
    request: (seq) => {
      const tag = Buffer.allocUnsafe(4);
      tag.writeUInt32LE(seq);
      return [COMMAND, tag, makePayload(seq, spec.size)];
    },
    reply: (frames) => {
      const [name, tag] = frames as Buffer[]; // Buffers under Node
      if (frames.length !== 3 || !name!.equals(REPLY) || tag!.length !== 4) return -1;
      const seq = tag!.readUInt32LE(0);
      return checkPayload(frames[2]!, seq, spec.size) ? seq : -1;
    },
  });
}

/** Keeps `inflight` `bench.echo` requests outstanding until the budget is spent. */
export async function run(spec: ClientSpec): Promise<ClientResult> {
  if (spec.mode !== 'rt') throw new Error('the oxenmq peer only runs request/reply');
  if (spec.impl === 'oxenmq-raw') return raw(spec);
  const curve = spec.curve;
  const omq = create(curve ? { pubkey: curve.clientPublic, privkey: curve.clientSecret } : undefined);
  try {
    await omq.start();
    // A curve address carries the server key: curve://host:port/<hex pubkey>.
    // (ws+curve://host:port/path/<hex pubkey> over a WebSocket.)
    const address = curve ? spec.endpoint.replace(/^(tcp|ws):\/\//, (_, t: string) => (t === 'ws' ? 'ws+curve://' : 'curve://')) + '/' + curve.serverPublic : spec.endpoint;
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
