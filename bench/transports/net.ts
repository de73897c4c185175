/**
 * The raw net.Socket ceiling: the same bytes with no framing, no handshake and no per-message
 * work, i.e. what any protocol layer on Node's sockets could at best approach.
 * - thr streams `size`-byte bodies packed into 64 KiB writes (an ideal sender coalesces small
 *   messages this way) and the sink only counts bytes until the sender half-closes;
 * - rt writes `size` bytes per round trip and the server pipes every byte back.
 * Bodies are not checked: this peer is a baseline, not something under test.
 */
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseEndpoint } from '../../zmtp/index.js';
import { makePayload } from '../payload.js';
import type { ClientResult, ClientSpec, ServeSpec, SinkReport } from '../protocol.js';
import { Stopwatch } from '../stopwatch.js';
import { Budget, RttRecorder, type RunningServer, printLocalThr } from './common.js';

const STAGING = 64 * 1024;

function tcpTarget(endpoint: string): { host: string; port: number } {
  const ep = parseEndpoint(endpoint);
  if (ep.transport !== 'tcp') throw new Error('the net peer supports tcp:// endpoints only');
  return { host: ep.host, port: ep.port };
}

/** Listens with a plain net.Server that counts (thr) or pipes back (lat/rt). */
export async function serve(spec: ServeSpec): Promise<RunningServer> {
  const { host, port } = tcpTarget(spec.endpoint);
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: the thr sender half-closes to say "done" and still reads our report.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    if (spec.mode === 'echo') {
      sock.pipe(sock);
      return;
    }
    let bytes = 0;
    let t0 = 0;
    sock.on('data', (d: Buffer) => {
      if (bytes === 0) t0 = performance.now();
      bytes += d.length;
    });
    sock.on('end', () => {
      const report: SinkReport = {
        received: Math.floor(bytes / spec.size),
        bytes,
        elapsedNs: bytes === 0 ? 0 : (performance.now() - t0) * 1e6,
        bad: bytes % spec.size === 0 ? 0 : 1,
      };
      if (spec.verbose) printLocalThr(report, spec.size);
      sock.end(JSON.stringify(report));
    });
  });
  server.listen({ host: host === '*' ? '0.0.0.0' : host, port });
  await once(server, 'listening');
  const a = server.address() as net.AddressInfo;
  return {
    endpoint: `tcp://${a.address}:${a.port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function connect(endpoint: string): Promise<net.Socket> {
  const sock = net.connect({ ...tcpTarget(endpoint), noDelay: true });
  await once(sock, 'connect');
  return sock;
}

async function thr(spec: ClientSpec): Promise<ClientResult> {
  const sock = await connect(spec.endpoint);
  try {
    const size = spec.size;
    const body = makePayload(0, size);
    const per = Math.max(1, Math.floor(STAGING / size));
    const budget = new Budget(spec.durationMs, spec.count);
    let sent = 0;
    const reply: Buffer[] = [];
    sock.on('data', (d: Buffer) => reply.push(d));
    const ended = once(sock, 'end');
    const sw = new Stopwatch();
    budget.start();
    while (budget.more(sent)) {
      const stage = Buffer.allocUnsafe(per * size);
      let n = 0;
      while (n < per && budget.moreCoarse(sent)) {
        body.copy(stage, n * size);
        n++;
        sent++;
      }
      if (!sock.write(n === per ? stage : stage.subarray(0, n * size))) await once(sock, 'drain');
    }
    sock.end();
    await ended;
    const sink = JSON.parse(Buffer.concat(reply).toString()) as SinkReport;
    return { sent, completed: sent, ...sw.read(), bad: 0, sink };
  } finally {
    sock.destroy();
  }
}

async function rt(spec: ClientSpec): Promise<ClientResult> {
  const sock = await connect(spec.endpoint);
  try {
    const { size, inflight } = spec;
    const body = makePayload(0, size);
    const budget = new Budget(spec.durationMs, spec.count);
    const rec = new RttRecorder();
    const sentAt = new Float64Array(inflight);
    let sent = 0;
    let completed = 0;
    let rx = 0;
    const sendOne = () => {
      sentAt[sent % inflight] = performance.now();
      sock.write(body);
      sent++;
    };
    const sw = new Stopwatch();
    budget.start();
    return await new Promise<ClientResult>((resolve, reject) => {
      sock.on('error', reject);
      sock.on('close', () => reject(new Error('echo server closed the connection')));
      sock.on('data', (d: Buffer) => {
        rx += d.length;
        const now = performance.now();
        // Every `size` bytes back is one completed round trip, oldest first. The replacements
        // go out corked as one writev, as a framing layer that batches per tick would send them;
        // without it this "ceiling" paid a syscall per message and fell below ours.
        sock.cork();
        while (completed < Math.floor(rx / size)) {
          rec.record((now - sentAt[completed % inflight]!) * 1e6);
          completed++;
          if (budget.more(sent)) sendOne();
        }
        sock.uncork();
        if (completed === sent) resolve({ sent, completed, ...sw.read(now), bad: 0, rtt: rec.summary() });
      });
      sock.cork();
      for (let i = 0; i < inflight && budget.more(sent); i++) sendOne();
      sock.uncork();
    });
  } finally {
    sock.destroy();
  }
}

/** Runs one client trial. */
export function run(spec: ClientSpec): Promise<ClientResult> {
  switch (spec.mode) {
    case 'thr':
      return thr(spec);
    case 'rt':
      return rt(spec);
    case 'handshake':
      return Promise.reject(new Error('the net peer has no handshake to measure'));
  }
}
