/**
 * The package as users get it: `npm pack`, installed into a fresh project, type-checked by a
 * TypeScript consumer under NodeNext and Bundler resolution, imported and required (one module
 * instance either way), and judged by publint and @arethetypeswrong/cli.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  engines: { node: string };
  dependencies: Record<string, string>;
  sideEffects: boolean;
  license: string;
};
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What a consumer writes: every entry point, types used in anger. */
const CONSUMER = `
import { AuthLevel, OxenMQ, RequestError, type Message, type OxenMQOptions } from 'oxenmq-ts';
import { btDecode, btEncode, toHex } from 'oxenmq-ts/oxenc';
import { ZmtpDealer, ZmtpRouter, type Peer, type RouterOptions } from 'oxenmq-ts/zmtp';
import { curveClient, curveServer, generateKeypair, z85Encode } from 'oxenmq-ts/curve';

const options: OxenMQOptions = { connHeartbeat: 0 };
const omq = new OxenMQ(options);
omq.addCategory('x', AuthLevel.none).addRequestCommand('echo', (m: Message) => m.sendReply(...m.data));
export async function ask(): Promise<string> {
  try {
    const [reply] = await omq.request(await omq.connectInproc(), 'x.echo', ['hi']);
    return reply!.toString();
  } catch (err) {
    return err instanceof RequestError ? err.code : 'other';
  } finally {
    await omq.close();
  }
}
export const hex: string = toHex(btEncode({ a: 1 }));
export const value = btDecode(btEncode([1, 'two']));

const server = generateKeypair();
const opts: RouterOptions<{ who: string }> = {
  mechanism: curveServer({ secretKey: server.secretKey }),
  authenticate: (req) => ({ allow: true, data: { who: req.address } }),
};
const router = new ZmtpRouter(opts);
router.onMessage = (frames: Uint8Array[], route: Uint8Array, peer: Peer<{ who: string }>) => router.send(route, [peer.authData?.who ?? '', ...frames]);
export const dealer = new ZmtpDealer({ mechanism: curveClient({ serverKey: server.publicKey, secretKey: generateKeypair().secretKey }) });
export const z85: string = z85Encode(server.publicKey);
`;

const SAME_INSTANCE = `
const viaRequire = require('oxenmq-ts');
import('oxenmq-ts').then((viaImport) => {
  const err = new viaRequire.RequestError('TIMEOUT', 'x.y');
  console.log(JSON.stringify({
    sameOxenMQ: viaRequire.OxenMQ === viaImport.OxenMQ,
    sameError: viaRequire.RequestError === viaImport.RequestError,
    crossInstanceof: err instanceof viaImport.RequestError && err instanceof viaImport.OmqError,
  }));
});
`;

describe('package', function () {
  this.timeout(180_000);
  let dir: string;
  let app: string;
  let tarball: string;
  let files: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'omq-pack-'));
    // The build is already there (npm test builds first): pack it as is.
    const out = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, out[0]!.filename);
    files = out[0]!.files.map((f) => f.path);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock', tarball], app);
    // The consumer's own Node types: the ones this repository installed.
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(app, 'node_modules', '@types', 'node'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('declares ESM, no side effects, MIT, Node >= 20.19 and only @noble at run time', () => {
    expect(pkg.sideEffects).to.equal(false);
    expect(pkg.license).to.equal('MIT');
    expect(pkg.engines.node).to.equal('>=20.19');
    expect(Object.keys(pkg.dependencies).sort()).to.deep.equal(['@noble/curves', '@noble/hashes']);
  });

  it('lists types first for every entry, and every target exists after the build', () => {
    type Conditions = { [condition: string]: string | Conditions };
    const check = (entry: string, target: string | Conditions): void => {
      if (typeof target === 'string') {
        expect(existsSync(join(root, target)), `${entry}: ${target}`).to.equal(true);
        return;
      }
      // A nested condition (browser) is an object of its own, with its types first.
      const keys = Object.keys(target).filter((k) => typeof target[k] === 'string');
      expect(keys[0], entry).to.equal('types');
      for (const [k, t] of Object.entries(target)) check(`${entry} ${k}`, t);
    };
    for (const [entry, target] of Object.entries(pkg.exports as Record<string, string | Conditions>)) {
      if (typeof target !== 'string') check(entry, target);
    }
  });

  it('the installed package bundles for the browser with no Node built-in and no shim', async () => {
    const { build } = await import('esbuild');
    writeFileSync(join(app, 'page.ts'), "import { OxenMQ } from 'oxenmq-ts';\nexport const omq = new OxenMQ();\n");
    const result = await build({ entryPoints: [join(app, 'page.ts')], absWorkingDir: app, bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.endsWith('oxenmq-ts/dist/lib/browser.js'))).to.equal(true);
    expect(inputs.filter((f) => f.startsWith('node:') || /node-platform|zmtp\/(node|router|ws|ws-stream)\.js|worker-pool/.test(f))).to.deep.equal([]);
    expect(result.outputFiles[0]!.text).not.to.match(/\bBuffer\.(from|alloc)/);
  });

  it('ships the builds, their declarations, the bins, LICENSE and README; no sources, specs or maps of specs', () => {
    for (const f of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/oxenc/index.d.ts', 'dist/zmtp/public.d.ts', 'dist/curve/public.d.ts', 'dist/bench/cli.js', 'dist/cli/main.js', 'LICENSE', 'README.md', 'package.json']) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => /^(lib|zmtp|curve|spec|bench|cli)\/|^dist\/spec\//.test(f))).to.deep.equal([]);
  });

  it('publint finds nothing to complain about', () => {
    const out = run(process.execPath, [bin('publint'), '--strict', '--pack', 'false', join(app, 'node_modules', pkg.name)], app);
    expect(out).to.match(/All good/);
  });

  it('@arethetypeswrong/cli finds no problem for an ESM package (CommonJS users require() it on Node >= 20.19)', () => {
    // attw exits non-zero on any problem its profile counts; the ESM-only profile leaves out
    // TypeScript's CommonJS view, which predates require() of ESM.
    const out = run(process.execPath, [bin('attw'), tarball, '--profile', 'esm-only', '--format', 'json'], dir);
    const problems = Object.values((JSON.parse(out) as { problems: Record<string, { resolutionKind?: string; entrypoint?: string }[]> }).problems).flat();
    expect(problems.filter((p) => p.resolutionKind !== 'node16-cjs')).to.deep.equal([]);
  });

  for (const [name, options] of [
    ['NodeNext', { module: 'NodeNext', moduleResolution: 'NodeNext' }],
    ['Bundler', { module: 'ESNext', moduleResolution: 'Bundler' }],
  ] as const) {
    it(`a TypeScript consumer type-checks against the installed package under ${name} resolution`, () => {
      writeFileSync(join(app, 'consumer.ts'), CONSUMER);
      const tsconfig = join(app, `tsconfig.${name}.json`);
      writeFileSync(
        tsconfig,
        JSON.stringify({ compilerOptions: { ...options, target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, files: ['consumer.ts'] }),
      );
      run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], app);
    });
  }

  it('import and require give one module instance: the same classes, instanceof across them', () => {
    writeFileSync(join(app, 'same.cjs'), SAME_INSTANCE);
    const out = JSON.parse(run(process.execPath, ['--no-warnings', 'same.cjs'], app)) as Record<string, boolean>;
    expect(out).to.deep.equal({ sameOxenMQ: true, sameError: true, crossInstanceof: true });
  });

  it('the main entry is the OxenMQ API only: no engine internals ride along', async () => {
    const m = (await import(join(app, 'node_modules', pkg.name, 'dist/lib/index.js'))) as Record<string, unknown>;
    for (const internal of ['Scheduler', 'collectArgs', 'toAccess', 'silentLogger', 'zmtp', 'curve', 'Decoder', 'RingQueue', 'ZmtpConnection']) {
      expect(m, internal).to.not.have.property(internal);
    }
    for (const api of ['OxenMQ', 'Message', 'DeferredSend', 'ConnectionID', 'Address', 'AuthLevel', 'OmqError', 'RequestError', 'Batch', 'JobResult', 'RUN_IN_PROXY', 'Subscription', 'dataParts']) {
      expect(m, api).to.have.property(api);
    }
  });
});
