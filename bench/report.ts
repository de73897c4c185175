/**
 * Everything the CLI prints. On stdout only the report: libzmq perf-tool style blocks as cases
 * finish (`message size: 64 [B]`, `mean throughput: N [msg/s]`, …) and the final Markdown table
 * with the command and date; or, with --json, one JSON document and nothing else, so the output
 * of `node dist/bench/cli.js … --json` (or `npm run -s bench -- … --json`) parses as it is. On
 * stderr: the progress line (when stderr is a terminal) and notes (a reference that did not load,
 * a case that failed).
 */
import os from 'node:os';
import { type Spread, fmt, ratioText, spread } from './stats.js';

/** One line of the final table: one case variant measured on one peer. */
export interface Row {
  /** Case label as shown, e.g. `thr 64 B`, `crypto seal 4 KiB`. */
  case: string;
  peer: string;
  /** The primary figure per run (same order as the other peers' runs); empty when skipped. */
  runs: number[];
  /** `msg/s`, `B/s` (bytes), `us` (microseconds), `B/conn`, …: see stats.fmt. */
  unit: string;
  /** Whether a larger primary figure is better (throughput) or worse (latency). */
  higherIsBetter: boolean;
  /** Label of the primary figure, e.g. `RTT p50` (shown before the number). */
  label?: string;
  /** Secondary figures per run, e.g. B/s, RTT p99. */
  extra: Extra[];
  /**
   * This row's primary figure ÷ that of the row named by the key (its `peer`), paired run by run
   * and summarised: e.g. `{ zeromq: …, net: … }` on an `ours` row.
   */
  ratios: Record<string, Spread>;
  /** Free text appended to the figure cell (e.g. the batch speed-up). */
  note?: string;
  /** Why this peer did not run (e.g. `zeromq not installed`); the row then has no runs. */
  skipped?: string;
  /** What one item cost in CPU time, where the case can tell. */
  cpu?: CpuCost;
}

/**
 * CPU time (user + system, `process.cpuUsage()`) per item of a row — per message, round trip,
 * request, connection, box or job — in µs, per run. Steadier than a rate on a shared machine,
 * and what a user pays.
 */
export interface CpuCost {
  /** The item: `msg`, `rt`, `req`, `conn`, `box`, `job`. */
  per: string;
  /** Per run: the client's process, or the only process (see `scope`). */
  client: number[];
  /** Per run: the server's process; null unless `scope` is `split`. */
  server: number[] | null;
  /**
   * `split`: client and server each in a process of its own; `client`: the server is elsewhere
   * (--connect); `both`: one process ran both sides (--one-process); `self`: no peer (crypto, batch).
   */
  scope: 'split' | 'client' | 'both' | 'self';
}

/** What CpuCost.client measured, by scope. */
const CLIENT_SIDE: Record<CpuCost['scope'], string> = { split: 'client', client: 'client', both: 'both sides', self: 'this process' };

/** The perf-tool block's CPU line: `cpu per msg: client 1.234 [us], server 0.987 [us]`. */
export function cpuLine(cpu: CpuCost): string {
  const side = (name: string, xs: number[]) => `${name} ${spread(xs).median.toFixed(3)} [us]`;
  const sides = [side(CLIENT_SIDE[cpu.scope], cpu.client)];
  if (cpu.server !== null) sides.push(side('server', cpu.server));
  return `cpu per ${cpu.per}: ${sides.join(', ')}\n`;
}

/** The CPU cell: `1.23 µs / 0.98 µs per msg` (client / server), or one figure where there is one. */
function cpuText(cpu: CpuCost | undefined): string {
  if (cpu === undefined || cpu.client.length === 0) return '—';
  const client = fmt(spread(cpu.client).median, 'us');
  switch (cpu.scope) {
    case 'split':
      return `${client} / ${fmt(spread(cpu.server!).median, 'us')} per ${cpu.per}`;
    case 'client':
      return `client ${client} per ${cpu.per}`;
    case 'both':
      return `${client} per ${cpu.per} (both sides, one process)`;
    case 'self':
      return `${client} per ${cpu.per}`;
  }
}

/** A secondary figure of a row. */
export interface Extra {
  label?: string;
  unit: string;
  runs: number[];
}

/** A case's outcome. */
export interface CaseResult {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** Which implementations it ran against (module sources, libzmq version). */
  sources?: string[];
  rows: Row[];
}

/** The row of a peer that did not run, so the table says so where its figures would be. */
export function skippedRow(label: string, peer: string, reason: string): Row {
  return { case: label, peer, runs: [], unit: '', higherIsBetter: true, extra: [], ratios: {}, skipped: reason };
}

/** Collects the cases' results and prints them (see the module comment for where). */
export class Report {
  readonly cases: CaseResult[] = [];
  private readonly tty: boolean;
  private progressShown = false;
  private readonly noted = new Set<string>();

  constructor(
    readonly json: boolean,
    readonly command: string,
    readonly date = new Date(),
  ) {
    // A progress line only when a person is watching stderr, whether or not stdout is piped.
    this.tty = process.stderr.isTTY === true;
  }

  /** Shows `text` as the one-line progress indicator (terminal only). */
  progress(text: string): void {
    if (!this.tty) return;
    process.stderr.write(`\x1b[2K\r${text.slice(0, (process.stderr.columns || 80) - 1)}`);
    this.progressShown = true;
  }

  /** Clears the progress line, if one is shown (before the final output, and before any print). */
  clearProgress(): void {
    if (this.progressShown) process.stderr.write('\x1b[2K\r');
    this.progressShown = false;
  }

  /** Prints part of the text report on stdout (nothing in --json mode: the document has it all). */
  print(text: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Prints a note for the person running the bench on stderr, in either mode; once per text. */
  note(text: string): void {
    if (this.noted.has(text)) return;
    this.noted.add(text);
    this.clearProgress();
    process.stderr.write(`oxenmq-bench: ${text}\n`);
  }

  /** Records a finished case. */
  add(result: CaseResult): void {
    this.cases.push(result);
    if (result.status !== 'ok') this.note(`${result.name}: ${result.status}: ${result.reason ?? ''}`);
  }

  get ok(): boolean {
    return this.cases.every((c) => c.status !== 'failed');
  }

  private environment() {
    const cpus = os.cpus();
    return {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: os.availableParallelism(),
    };
  }

  /** The Markdown table with its heading (command, date, machine) and legend. */
  table(): string {
    const env = this.environment();
    const lines = [
      '## oxenmq-bench results',
      '',
      '```',
      `$ ${this.command}`,
      '```',
      '',
      `${this.date.toISOString()} · Node ${env.node} · ${env.platform} · ${env.cpu} × ${env.cores}`,
      '',
      '| case | peer | figure | CPU client / server | ratio (this ÷ reference) | spread |',
      '|---|---|---|---|---|---|',
    ];
    const cell = (text: string) => text.replace(/\|/g, '\\|');
    for (const c of this.cases) {
      if (c.status !== 'ok') {
        lines.push(`| ${c.name} | — | ${c.status}: ${cell(c.reason ?? '')} | — | — | — |`);
        continue;
      }
      for (const r of c.rows) {
        if (r.skipped !== undefined) {
          lines.push(`| ${r.case} | ${r.peer} | skipped: ${cell(r.skipped)} | — | — | — |`);
          continue;
        }
        const s = spread(r.runs);
        const extras = r.extra.map((e) => ` · ${fmt(spread(e.runs).median, e.unit, e.label)}`).join('');
        const figure = `${fmt(s.median, r.unit, r.label)}${extras}${r.note ? ` · ${r.note}` : ''}`;
        const ratios = Object.entries(r.ratios).map(([ref, x]) => `vs ${ref} ${ratioText(x)}`);
        const range = r.runs.length > 1 ? `${fmt(s.min, r.unit)} – ${fmt(s.max, r.unit)}` : '—';
        lines.push(`| ${r.case} | ${r.peer} | ${figure} | ${cpuText(r.cpu)} | ${ratios.length > 0 ? ratios.join(' · ') : '—'} | ${range} |`);
      }
    }
    lines.push(
      '',
      'Ratios are this row ÷ the named reference, of the first figure, paired run by run (same run,',
      'peers interleaved): median (min–max). Rates: higher is better; times: lower is better.',
      'RTT = round trip (request out, reply back, timed by the client); the perf-tool blocks\' "average',
      'latency" is one-way, half the mean RTT, as libzmq\'s local_lat/remote_lat print it.',
      'CPU = user + system time per item (msg, rt, req, conn, box, job) from process.cpuUsage(): the',
      "client's process / the server's process, each over the whole trial, all threads (libzmq's I/O",
      "thread included). zeromq = zeromq.js 6 over native libzmq; net = raw net.Socket with no framing,",
      'the ceiling for any layer on Node sockets; sodium-native / libsodium-wrappers = libsodium (what',
      "libzmq's CURVE uses) as a native addon / as WebAssembly. Spread = min – max of the first figure",
      'over the measured runs.',
    );
    return lines.join('\n');
  }

  /** The whole result as one JSON-able object. */
  document(options: Record<string, unknown>): Record<string, unknown> {
    return {
      tool: 'oxenmq-bench',
      command: this.command,
      date: this.date.toISOString(),
      environment: this.environment(),
      options,
      ok: this.ok,
      cases: this.cases.map((c) => ({
        ...c,
        rows: c.rows.map((r) =>
          r.skipped !== undefined
            ? r
            : {
                ...r,
                median: spread(r.runs).median,
                spread: spread(r.runs),
                extra: r.extra.map((e) => ({ ...e, median: spread(e.runs).median })),
                ...(r.cpu && {
                  cpu: { ...r.cpu, clientMedian: spread(r.cpu.client).median, serverMedian: r.cpu.server && spread(r.cpu.server).median },
                }),
              },
        ),
      })),
    };
  }
}

/**
 * Fills in `ratios` of the row whose peer is `from`: its runs ÷ each reference row's runs, paired
 * run by run. References that are missing or skipped are left out.
 */
export function fillRatios(rows: Row[], from: string, refs: readonly string[]): void {
  const row = rows.find((r) => r.peer === from && r.skipped === undefined);
  if (row === undefined) return;
  for (const ref of refs) {
    const theirs = rows.find((r) => r.peer === ref && r.skipped === undefined);
    if (theirs === undefined) continue;
    const n = Math.min(row.runs.length, theirs.runs.length);
    const pairs: number[] = [];
    for (let i = 0; i < n; i++) pairs.push(row.runs[i]! / theirs.runs[i]!);
    if (pairs.length > 0) row.ratios[ref] = spread(pairs);
  }
}
