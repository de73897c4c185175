/**
 * The package as users get it: the `exports` map (ESM and the CommonJS bundle, resolved through
 * the package's own name), the type declarations it points at, and what `npm pack` would ship.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8')) as {
  exports: Record<string, Record<string, string>>;
  engines: { node: string };
  dependencies: Record<string, string>;
};

describe('package', () => {
  it('exports lists types first, then ESM and the CommonJS bundle, all present after the build', () => {
    const dot = pkg.exports['.']!;
    expect(Object.keys(dot)[0]).to.equal('types');
    for (const target of Object.values(dot)) expect(existsSync(root + target), target).to.equal(true);
    expect(pkg.engines.node).to.equal('>=20.19');
    expect(Object.keys(pkg.dependencies).sort()).to.deep.equal(['@noble/ciphers', '@noble/curves', '@noble/hashes']);
  });

  it('import("oxenmq-ts") resolves through the exports map and works', async () => {
    const m = await import('oxenmq-ts');
    const omq = new m.OxenMQ();
    expect(omq.pubkey).to.have.length(32);
    // The main entry is the OxenMQ API only: no engine internals ride along.
    for (const internal of ['Scheduler', 'collectArgs', 'toAccess', 'silentLogger', 'zmtp', 'curve', 'Decoder', 'RingQueue']) {
      expect(m, internal).to.not.have.property(internal);
    }
    expect(Object.keys(new m.OxenMQ())).to.not.include('scheduler');
  });

  it('import("oxenmq-ts/oxenc") gives bt-encoding and the key encodings', async () => {
    const oxenc = await import('oxenmq-ts/oxenc');
    expect(oxenc.toHex(oxenc.fromHex('00ff'))).to.equal('00ff');
    expect(oxenc.btDecode(oxenc.btEncode({ a: 1 }))).to.deep.equal(new Map([['a', 1]]));
  });

  it('require("oxenmq-ts") loads the CommonJS bundle (which requires the ESM-only noble)', () => {
    const require = createRequire(import.meta.url);
    const m = require('oxenmq-ts') as typeof import('oxenmq-ts');
    expect(require.resolve('oxenmq-ts')).to.match(/dist\/cjs\/index\.cjs$/);
    const omq = new m.OxenMQ();
    expect(omq.pubkey).to.have.length(32);
    expect(m.AuthLevel.admin).to.equal(3);
  });

  it('npm pack ships the builds, the declarations, the bench CLI and the README, not the sources or specs', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['dist/lib/index.js', 'dist/cjs/index.cjs', 'dist/types/lib/index.d.ts', 'dist/bench/cli.js', 'dist/bench/peer.js', 'README.md', 'package.json']) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => /^(lib|zmtp|curve|spec|bench)\/|dist\/spec\//.test(f))).to.deep.equal([]);
  });
});
