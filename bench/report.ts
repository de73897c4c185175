/**
 * Everything the CLI prints. On stdout only the report: libzmq perf-tool style blocks as cases
 * finish (`message size: 64 [B]`, `mean throughput: N [msg/s]`, …) and the final Markdown table
 * with the command and date; or, with --json, one JSON document and nothing else, so the output
 * of `node dist/bench/cli.js … --json` (or `npm run -s bench -- … --json`) parses as it is. On
 * stderr: the progress line (when stderr is a terminal) and notes (a reference that did not load,
 * a case that failed).
 */
import os from 'node:os';
import { type Spread, ratioText, si, sig, spread } from './stats.js';

/** One line of the final table: one case variant measured on one peer. */
export interface Row {
  /** Case label as shown, e.g. `thr 64 B`, `crypto seal 4 KiB`. */
  case: string;
  peer: string;
  /** The primary figure per run (same order as the other peers' runs). */
  runs: number[];
  unit: string;
  /** Whether a larger primary figure is better (throughput) or worse (latency). */
  higherIsBetter: boolean;
  /** Label of the primary figure, e.g. `p50` (shown before the number). */
  label?: string;
  /** Secondary figures per run, e.g. MB/s, p99. */
  extra: Extra[];
  /** ours/theirs of the primary figure, per run pair, summarised. */
  ratios: { zeromq?: Spread; net?: Spread };
  /** Free text appended to the figure cell (e.g. the batch speed-up). */
  note?: string;
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

/** Formats a figure with its unit, e.g. "1.23 M msg/s", "p99 41.2 us". */
export function fmt(x: number, unit: string, label?: string): string {
  const n = unit === 'us' || unit === 'ms' ? `${sig(x)} ${unit}` : `${si(x)} ${unit}`;
  return label ? `${label} ${n}` : n;
}

export class Report {
  readonly cases: CaseResult[] = [];
  private readonly tty: boolean;
  private progressShown = false;

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

  private clearProgress(): void {
    if (this.progressShown) process.stderr.write('\x1b[2K\r');
    this.progressShown = false;
  }

  /** Prints part of the text report on stdout (nothing in --json mode: the document has it all). */
  print(text: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Prints a note for the person running the bench on stderr, in either mode. */
  note(text: string): void {
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
      '| case | peer | figure | ratio vs zeromq | ratio vs net | spread |',
      '|---|---|---|---|---|---|',
    ];
    for (const c of this.cases) {
      if (c.status !== 'ok') {
        lines.push(`| ${c.name} | — | ${c.status}: ${(c.reason ?? '').replace(/\|/g, '\\|')} | — | — | — |`);
        continue;
      }
      for (const r of c.rows) {
        const s = spread(r.runs);
        const extras = r.extra.map((e) => ` · ${fmt(spread(e.runs).median, e.unit, e.label)}`).join('');
        const figure = `${fmt(s.median, r.unit, r.label)}${extras}${r.note ? ` · ${r.note}` : ''}`;
        const range = r.runs.length > 1 ? `${fmt(s.min, r.unit)} – ${fmt(s.max, r.unit)}` : '—';
        lines.push(`| ${r.case} | ${r.peer} | ${figure} | ${ratioText(r.ratios.zeromq)} | ${ratioText(r.ratios.net)} | ${range} |`);
      }
    }
    lines.push(
      '',
      'Ratios are ours/theirs of the figure, paired run by run (same run, interleaved peers): median (min–max).',
      'Throughput: higher is better; latency (us): lower is better. zeromq = zeromq.js 6 over native libzmq',
      '(which adds its own I/O thread); net = raw net.Socket with no framing, the ceiling for any layer on',
      'Node sockets. For crypto the zeromq column compares with libsodium (what libzmq CURVE uses), as its',
      'wasm build from libsodium-wrappers. Spread = min – max of the figure over the measured runs.',
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
        rows: c.rows.map((r) => ({
          ...r,
          median: spread(r.runs).median,
          spread: spread(r.runs),
          extra: r.extra.map((e) => ({ ...e, median: spread(e.runs).median })),
        })),
      })),
    };
  }
}

/**
 * Pairs each peer's runs with ours run by run and fills in `ratios` of the `ours` row(s).
 * `oursPeer` names the row treated as ours (e.g. `ours`, `oxenmq`).
 */
export function fillRatios(rows: Row[], oursPeer: string, refs: { zeromq?: string; net?: string }): void {
  const ours = rows.find((r) => r.peer === oursPeer);
  if (ours === undefined) return;
  for (const key of ['zeromq', 'net'] as const) {
    const theirs = rows.find((r) => r.peer === refs[key]);
    if (theirs === undefined) continue;
    const n = Math.min(ours.runs.length, theirs.runs.length);
    const pairs: number[] = [];
    for (let i = 0; i < n; i++) pairs.push(ours.runs[i]! / theirs.runs[i]!);
    if (pairs.length > 0) ours.ratios[key] = spread(pairs);
  }
}
