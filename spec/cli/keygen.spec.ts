/**
 * `oxenmq keygen`, the entry point's own options, and the package's `bin` entry.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { publicKeyFromSecret } from '../../curve/index.js';
import { fromBase32z, fromHex, toHex } from '../../lib/oxenc/index.js';
import { CLI, oxenmq, show, tempDir, tempFile } from './helpers.js';

const HEX_KEY = /^[0-9a-f]{64}$/;

describe('cli keygen', () => {
  it('prints a secret key and its public key, in hex, one per line', async () => {
    const r = await oxenmq(['keygen']);
    expect(r.code, show(r)).to.equal(0);
    expect(r.stderr).to.equal('');
    const lines = r.stdout.split('\n');
    expect(lines).to.have.length(3);
    expect(lines[2]).to.equal('');
    const [sec, pub] = lines as [string, string];
    expect(sec).to.match(HEX_KEY);
    expect(pub).to.match(HEX_KEY);
    expect(toHex(publicKeyFromSecret(fromHex(sec)))).to.equal(pub);
  });

  it('makes a different keypair on every run', async () => {
    const [a, b] = await Promise.all([oxenmq(['keygen']), oxenmq(['keygen'])]);
    expect(a.stdout.split('\n')[0]).to.not.equal(b.stdout.split('\n')[0]);
  });

  it('--json gives seckey, pubkey and the pubkey in base32z, all of one valid pair', async () => {
    const r = await oxenmq(['keygen', '--json']);
    expect(r.code, show(r)).to.equal(0);
    const k = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(k)).to.deep.equal(['seckey', 'pubkey', 'pubkey_base32z']);
    expect(k['seckey']).to.match(HEX_KEY);
    expect(toHex(publicKeyFromSecret(fromHex(k['seckey']!)))).to.equal(k['pubkey']);
    expect(toHex(fromBase32z(k['pubkey_base32z']!))).to.equal(k['pubkey']);
  });

  it('--seckey prints the pair of a given key: as text, as keygen output in a file, as a 32-byte raw file', async () => {
    const first = await oxenmq(['keygen']);
    const [sec, pub] = first.stdout.split('\n') as [string, string];
    const dir = tempDir();
    const keyFile = tempFile(dir, 'key.txt', first.stdout);
    const rawFile = tempFile(dir, 'key_x25519', fromHex(sec));
    for (const arg of [sec, `@${keyFile}`, `@${rawFile}`]) {
      const r = await oxenmq(['keygen', '--seckey', arg]);
      expect(r.code, show(r)).to.equal(0);
      expect(r.stdout, arg).to.equal(`${sec}\n${pub}\n`);
    }
  });

  it('refuses a malformed --seckey, an unreadable key file and stray arguments with exit 1', async () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--seckey', 'abcd'], /--seckey must be a 32-byte key/],
      [['--seckey', `@${dir}/missing`], /cannot read .*missing \(--seckey\): ENOENT/],
      [['--seckey', `@${tempFile(dir, 'short', 'not a key\n')}`], /holds no secret key/],
      [['extra'], /unexpected argument "extra"/],
      [['--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const r = await oxenmq(['keygen', ...args]);
      expect(r.code, show(r)).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(/\n\s+at /, 'no stack trace');
    }
  });
});

describe('cli entry point', () => {
  it('without a command, or with an unknown one, prints a usage line and exits 1', async () => {
    for (const args of [[], ['frobnicate']]) {
      const r = await oxenmq(args);
      expect(r.code, show(r)).to.equal(1);
      expect(r.stderr).to.match(/^usage: oxenmq request\|send\|keygen\|serve/m);
    }
  });

  it('--help lists every command; help COMMAND and COMMAND --help show that command', async () => {
    const all = await oxenmq(['--help']);
    expect(all.code).to.equal(0);
    for (const c of ['request', 'send', 'keygen', 'serve', 'gateway']) expect(all.stdout).to.include(`oxenmq ${c} `);
    for (const c of ['request', 'send', 'keygen', 'serve', 'gateway']) {
      const [a, b] = await Promise.all([oxenmq(['help', c]), oxenmq([c, '--help'])]);
      expect(a.code, show(a)).to.equal(0);
      expect(b.code, show(b)).to.equal(0);
      expect(a.stdout).to.match(new RegExp(`^usage: oxenmq ${c} `));
      expect(a.stdout).to.equal(b.stdout);
      expect(a.stdout).to.include('Exit status');
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await oxenmq(['--version']);
    expect(r.stdout).to.equal(`oxenmq ${pkg.version}\n`);
  });

  it('package.json installs it as the oxenmq command, a node script', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(pkg.bin['oxenmq']).to.equal('./dist/cli/main.js');
    expect(pkg.files).to.include('dist/cli');
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).to.equal('#!/usr/bin/env node');
  });
});
