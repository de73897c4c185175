#!/usr/bin/env node
/**
 * oxenmq-bench: the benchmark CLI (`npm run bench -- [case ...] [options]`, see options.ts).
 *
 * Cases run one after another; inside a case the peers' runs are interleaved and every ratio is
 * a row's figure ÷ its reference's from back-to-back runs. Servers and clients run in two forked
 * peer processes by default, each read for its own CPU time. stdout carries only the report (with
 * --json, only the JSON document); progress and notes go to stderr. Exit codes: 0 success, 1 a
 * case failed (loss, corruption, errors), 2 bad usage.
 */
import { batchCase } from './cases/batch.js';
import { type CaseContext, type CaseFn } from './cases/context.js';
import { cryptoCase } from './cases/crypto.js';
import { handshakeCase } from './cases/handshake.js';
import { memoryCase } from './cases/memory.js';
import { meshCase } from './cases/mesh.js';
import { reqrepCase } from './cases/reqrep.js';
import { soakCase } from './cases/soak.js';
import { socketCase } from './cases/socket.js';
import { ForkedHost, LocalHost, type PeerHost } from './host.js';
import { benchKeys, hexToZ85 } from './keys.js';
import { type BenchOptions, CASES, type CaseName, USAGE, UsageError, parseArgs } from './options.js';
import type { SocketImpl } from './protocol.js';
import { Report } from './report.js';
import { PeerRuntime } from './runtime.js';

const CASE_FNS: Record<CaseName, CaseFn> = {
  thr: (ctx) => socketCase(ctx, 'thr'),
  lat: (ctx) => socketCase(ctx, 'lat'),
  rt: (ctx) => socketCase(ctx, 'rt'),
  reqrep: reqrepCase,
  handshake: handshakeCase,
  crypto: cryptoCase,
  batch: batchCase,
  memory: memoryCase,
  mesh: meshCase,
  soak: soakCase,
};

/** The command as the user would retype it, for the report heading. */
function commandLine(argv: readonly string[]): string {
  const quoted = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  if (process.env['npm_lifecycle_event'] === 'bench') return `npm run bench${quoted ? ` -- ${quoted}` : ''}`;
  return `node dist/bench/cli.js${quoted ? ` ${quoted}` : ''}`;
}

function jsonOptions(o: BenchOptions): Record<string, unknown> {
  const { given: _given, help: _help, ...rest } = o;
  return rest;
}

/** --bind: serve one case's server side until SIGINT/SIGTERM. */
async function serveForever(opts: BenchOptions): Promise<number> {
  const name = opts.cases[0]!;
  const impl = opts.peers[0] as SocketImpl;
  const keys = benchKeys();
  const curve = opts.curve || name === 'handshake';
  const runtime = new PeerRuntime();
  const info = await runtime.serve({
    impl,
    mode: name === 'thr' ? 'sink' : 'echo',
    endpoint: opts.bind!,
    size: opts.size,
    curve: curve && impl !== 'net' ? keys : null,
    verbose: true,
  });
  process.stdout.write(`oxenmq-bench ${name} server (${impl}) bound to ${info.endpoint}\n`);
  if (curve) process.stdout.write(`CURVE server public key (Z85): ${hexToZ85(keys.serverPublic)}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await runtime.closeAll();
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`oxenmq-bench: ${err.message}\n(try --help)\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (opts.bind !== null) return serveForever(opts);

  const report = new Report(opts.json, commandLine(argv));
  const hosts: PeerHost[] = [];
  let server: PeerHost | undefined;
  let client: PeerHost | undefined;
  const local = () => {
    const h = new LocalHost();
    hosts.push(h);
    return h;
  };
  const forked = (name: string) => {
    const h = new ForkedHost(name);
    hosts.push(h);
    return h;
  };
  const inProcess = opts.oneProcess || opts.connect !== null;
  const ctx: CaseContext = {
    opts,
    report,
    keys: benchKeys(),
    server: () => (server ??= inProcess ? (client ?? local()) : forked('server')),
    client: () => (client ??= inProcess ? (server ?? local()) : forked('client')),
  };

  report.print(`oxenmq-bench · ${report.command} · ${report.date.toISOString()}\n`);
  const names = opts.cases.length > 0 ? opts.cases : [...CASES];
  try {
    for (const name of names) {
      try {
        report.add(await CASE_FNS[name](ctx));
      } catch (err) {
        report.add({ name, status: 'failed', reason: err instanceof Error ? err.message.split('\n')[0] : String(err), rows: [] });
      }
    }
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
  report.clearProgress();
  if (opts.json) process.stdout.write(`${JSON.stringify(report.document(jsonOptions(opts)), null, 2)}\n`);
  else report.print(report.table());
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly (a closed zeromq context or a lingering socket must not keep us alive),
    // but only after stdout has drained: a piped JSON document would otherwise be cut short.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`oxenmq-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
