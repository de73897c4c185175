/**
 * Plumbing for the command-line specs: run `node dist/cli/main.js …` as a child process and
 * collect what it printed and how it exited, and keep an `oxenmq serve` child running while a
 * test talks to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (this file runs from dist/spec/cli/). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** How a run ended and what it wrote. */
export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout as bytes (text mode writes reply parts as they are). */
  readonly stdoutBytes: Buffer;
  readonly stdout: string;
  readonly stderr: string;
}

/** A run's code and output, for assertion messages. */
export const show = (r: Run): string => `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

function collect(child: ChildProcess, what: string, killAfterMs: number): Promise<Run> {
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    // The CLI must end by itself; this only keeps a broken one from hanging the suite.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${killAfterMs} ms\n${Buffer.concat(out).toString()}\n${stderr}`));
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdoutBytes, stdout: stdoutBytes.toString(), stderr });
    });
  });
}

/** Runs `oxenmq ARGS…` to its end; `stdin` is piped in when given (else stdin is empty). */
export function oxenmq(args: readonly string[], opts: { stdin?: string | Uint8Array; killAfterMs?: number } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => {}); // the CLI may exit (usage error) before reading it
  child.stdin!.end(opts.stdin ?? '');
  return collect(child, `oxenmq ${args.join(' ')}`, opts.killAfterMs ?? 8000);
}

/** A running `oxenmq serve`, its stdout split into lines as they arrive. */
export class Serve {
  readonly lines: string[] = [];
  readonly done: Promise<Run>;
  private partial = '';
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      const text = this.partial + d.toString();
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters) w();
    });
    this.done = collect(child, 'oxenmq serve', 30_000);
    this.done.then(
      () => this.waiters.forEach((w) => w()),
      () => {},
    );
  }

  /** Starts `oxenmq serve ARGS…` and waits until it prints `ready` lines (or exits). */
  static async start(args: readonly string[], ready: (lines: readonly string[]) => boolean, subcommand = 'serve'): Promise<Serve> {
    const s = new Serve(spawn(process.execPath, [CLI, subcommand, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await s.until(ready, 'serve to start');
    return s;
  }

  /** Resolves once `cond(lines)` holds; rejects if the process exits first or after `ms`. */
  until(cond: (lines: readonly string[]) => boolean, what: string, ms = 5000): Promise<void> {
    if (cond(this.lines)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (cond(this.lines)) finish();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) finish(new Error(`serve exited before ${what}\n${this.lines.join('\n')}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}\n${this.lines.join('\n')}`)), ms);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(check);
    });
  }

  /** Sends `signal` and waits for the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Run> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.done;
  }
}

/** A fresh temporary directory (IPC sockets, key and part files). */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'omq-cli-'));
}

/** Writes `data` to a new file in `dir` and returns its path. */
export function tempFile(dir: string, name: string, data: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}
