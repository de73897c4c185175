/**
 * soak: sustained CURVE request/reply against one OxenMQ listener for --seconds, with connection
 * churn and a slow consumer present, sampling the listener's memory as it goes; the goal is a
 * flat line.
 *
 * The listener runs in a fresh --expose-gc process (soak-server.ts), so each sample follows a
 * full collection and holds nothing but the listener. This process drives it with:
 * - steady load: 4 CURVE connections, each with 16 `soak.echo` requests (--size bytes) in flight;
 * - churn: connections opened, used for 4 requests and closed again, 4 at a time, all the time;
 * - a slow consumer: a CURVE peer that keeps sending 16 KiB requests and never reads a reply, so
 *   the listener's queue to it fills and the rest is dropped (its warnings are counted).
 * Every few seconds it prints the listener's RSS, heap and external memory and the request rate;
 * at the end the least-squares slope of RSS and heap in MiB/min over the samples after the first
 * fifth (warm-up: queues and pools filling). A request that fails on a steady or churned
 * connection fails the case.
 */
import { curveClient, generateKeypair } from '../../curve/index.js';
import { OxenMQ } from '../../lib/index.js';
import { ZmtpConnection } from '../../zmtp/connection.js';
import { ZmtpDealer } from '../../zmtp/node.js';
import type { SoakRequest, SoakSample } from '../soak-server.js';
import type { CaseResult, Row } from '../report.js';
import { slope } from '../stats.js';
import { type CaseContext, CaseFailure } from './context.js';
import { type ChildBody, ForkedChild } from '../child.js';

const STEADY_CONNECTIONS = 4;
const STEADY_INFLIGHT = 16;
const CHURNERS = 4;
const CHURN_REQUESTS = 4;
const SLOW_PAYLOAD = 16 * 1024;
/** Requests the slow consumer sends per tick (every 100 ms) whatever happens to them. */
const SLOW_BURST = 32;

const MiB = 2 ** 20;

/** The interval between samples: about a dozen per run, every 1 to 10 s. */
export function sampleInterval(seconds: number): number {
  return Math.min(10, Math.max(1, Math.round(seconds / 12)));
}

/** Slopes in MiB/min over the samples after the first fifth (at least the last two). */
export function memorySlopes(samples: readonly { t: number; s: SoakSample }[]): { rss: number; heap: number; external: number; from: number } {
  const from = Math.min(Math.floor(samples.length / 5), Math.max(0, samples.length - 2));
  const used = samples.slice(from);
  const minutes = used.map((x) => x.t / 60);
  const per = (f: (s: SoakSample) => number) => slope(minutes, used.map((x) => f(x.s) / MiB));
  return { rss: per((s) => s.rss), heap: per((s) => s.heapUsed), external: per((s) => s.external), from: used[0]?.t ?? 0 };
}

export async function soakCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report, keys } = ctx;
  const seconds = opts.seconds;
  const every = sampleInterval(seconds);
  const payload = Buffer.alloc(opts.size, 0x61);
  const server = new ForkedChild<ChildBody<SoakRequest>>('soak-server.js', 'soak listener', ['--expose-gc']);
  // Several connections from one instance to one listener need throw-away routing ids (as C++
  // EPHEMERAL_ROUTING_ID): with the stable default each new one would take the last one's route over.
  const client = new OxenMQ({ ephemeralRoutingId: true, logger: { warn() {}, error() {} } });
  let slow: ZmtpDealer | null = null;
  let slowTimer: NodeJS.Timeout | undefined;
  let stop = false;
  const failures: string[] = [];
  let completed = 0;
  let churned = 0;
  try {
    const endpoint = await server.call<string>({ op: 'listen', keys }, 30_000);
    const address = `curve://${endpoint.slice('tcp://'.length)}/${keys.serverPublic}`;
    await client.start();

    const echo = async (id: Awaited<ReturnType<OxenMQ['connectRemote']>>, where: string) => {
      try {
        const [back] = await client.request(id, 'soak.echo', [payload], { timeout: 30_000 });
        if (back === undefined || !Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(payload)) failures.push(`${where}: wrong reply`);
        completed++;
      } catch (err) {
        failures.push(`${where}: ${(err as { code?: string }).code ?? (err as Error).message}`);
      }
    };
    const connect = async (where: string) => {
      try {
        return await client.connectRemote(address);
      } catch (err) {
        failures.push(`${where} connect: ${(err as { code?: string }).code ?? (err as Error).message}: ${(err as Error).message}`);
        return null;
      }
    };
    const steady = async () => {
      const id = await connect('steady');
      if (id === null) return;
      await Promise.all(Array.from({ length: STEADY_INFLIGHT }, async () => {
        while (!stop && failures.length === 0) await echo(id, 'steady');
      }));
    };
    const churn = async () => {
      while (!stop && failures.length === 0) {
        const id = await connect('churn');
        if (id === null) return;
        for (let i = 0; i < CHURN_REQUESTS; i++) await echo(id, 'churn');
        client.disconnect(id, 0);
        churned++;
      }
    };

    // The slow consumer: a raw CURVE dealer whose socket stops reading once it is up.
    const slowKeys = generateKeypair();
    slow = new ZmtpDealer({ heartbeatInterval: 0, mechanism: curveClient({ serverKey: Buffer.from(keys.serverPublic, 'hex'), ...slowKeys }) });
    const up = new Promise<void>((resolve) => slow!.once('connect', () => resolve()));
    slow.connect(endpoint);
    await up;
    const conn = slow.connection;
    if (conn instanceof ZmtpConnection) conn.socket.pause();
    const slowPayload = Buffer.alloc(SLOW_PAYLOAD, 0x73);
    let slowTag = 0;
    let slowRefused = 0;
    slowTimer = setInterval(() => {
      for (let i = 0; i < SLOW_BURST; i++) {
        try {
          slow!.send(['soak.echo', `s${slowTag++}`, slowPayload]);
        } catch {
          // Our own queue to the listener is full too (it stopped reading a peer it cannot write to).
          slowRefused++;
        }
      }
    }, 100);

    const workers = [...Array.from({ length: STEADY_CONNECTIONS }, steady), ...Array.from({ length: CHURNERS }, churn)];
    const samples: { t: number; s: SoakSample }[] = [];
    const t0 = performance.now();
    const take = async () => {
      const s = await server.call<SoakSample>({ op: 'sample' }, 60_000);
      const t = (performance.now() - t0) / 1000;
      samples.push({ t, s });
      const prev = samples.at(-2);
      const rate = prev === undefined ? 0 : (s.served - prev.s.served) / (t - prev.t);
      report.print(
        `soak t=${t.toFixed(0).padStart(4)} s  rss ${(s.rss / MiB).toFixed(1)} MiB  heap ${(s.heapUsed / MiB).toFixed(1)} MiB  ` +
          `external ${(s.external / MiB).toFixed(1)} MiB  ${Math.round(rate)} req/s  conns +${s.accepted}/−${s.closed}  warnings ${s.warnings}`,
      );
    };
    await take();
    while ((performance.now() - t0) / 1000 < seconds && failures.length === 0) {
      const next = samples.length * every * 1000 - (performance.now() - t0);
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next, seconds * 1000 - (performance.now() - t0)))));
      await take();
    }
    stop = true;
    clearInterval(slowTimer);
    await Promise.all(workers);
    if (failures.length > 0) throw new CaseFailure(`soak: ${failures.length} request(s) failed, first: ${failures[0]}`);

    const last = samples.at(-1)!;
    const first = samples[0]!;
    const sl = memorySlopes(samples);
    const elapsed = last.t - first.t;
    const reqRate = (last.s.served - first.s.served) / elapsed;
    report.print(
      [
        `soak · OxenMQ listenCurve · ${seconds} s · ${STEADY_CONNECTIONS}×${STEADY_INFLIGHT} in flight, ${CHURNERS} churning, 1 slow consumer`,
        `message size: ${opts.size} [B]`,
        `mean request rate: ${reqRate.toFixed(0)} [req/s]`,
        `requests completed: ${completed} (churned connections: ${churned})`,
        `listener cpu per request: ${((last.s.cpuUs - first.s.cpuUs) / (last.s.served - first.s.served)).toFixed(3)} [us]`,
        `listener rss: ${(first.s.rss / MiB).toFixed(1)} → ${(last.s.rss / MiB).toFixed(1)} [MiB], slope ${sl.rss.toFixed(2)} [MiB/min] (from t=${sl.from.toFixed(0)} s)`,
        `listener heap: ${(first.s.heapUsed / MiB).toFixed(1)} → ${(last.s.heapUsed / MiB).toFixed(1)} [MiB], slope ${sl.heap.toFixed(2)} [MiB/min]`,
        `listener external: ${(first.s.external / MiB).toFixed(1)} → ${(last.s.external / MiB).toFixed(1)} [MiB], slope ${sl.external.toFixed(2)} [MiB/min]`,
        `slow consumer: ${slowTag} requests, ${slowRefused} refused by its own full queue; listener warnings logged: ${last.s.warnings}`,
        '',
      ].join('\n'),
    );
    const row = (what: string, x: number, unit: string, higherIsBetter = false): Row => ({
      case: `soak ${seconds} s ${what}`,
      peer: 'ours',
      runs: [x],
      unit,
      higherIsBetter,
      extra: [],
      ratios: {},
    });
    return {
      name: 'soak',
      status: 'ok',
      rows: [
        row('requests', reqRate, 'req/s', true),
        row('listener RSS slope', sl.rss, 'MiB/min'),
        row('listener heap slope', sl.heap, 'MiB/min'),
        row('listener RSS at end', last.s.rss, 'B/proc'),
      ],
    };
  } finally {
    stop = true;
    clearInterval(slowTimer);
    await slow?.close(0);
    await client.close(0);
    await server.close();
  }
}
