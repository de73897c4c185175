/**
 * The browser build in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
 * no browser is downloaded). A page bundled from the package by esbuild for the browser, with no
 * shims, uses OxenMQ over the page's WebSocket against peers this test starts on 127.0.0.1:
 * CURVE requests to an OxenMQ ws listener (`ZWS2.0+CURVE`), a command pushed back by that server,
 * a wrong server key failing cleanly, a plain request to a libzmq ROUTER over bare `ZWS2.0`, and
 * a request through the Gateway to an OxenMQ node behind it over curve://.
 */
import { expect } from 'chai';
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import * as zmq from 'zeromq';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel } from '../../lib/auth.js';
import { Gateway } from '../../lib/gateway.js';
import { toHex } from '../../lib/oxenc/index.js';
import { OxenMQ } from '../../lib/oxenmq.js';
import { freePort } from '../helpers/net.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const quiet = { warn() {}, error() {}, info() {}, debug() {} };

/** The page's program: every scenario in one run, results returned to the test. */
const PAGE = `
import { AuthLevel, OxenMQ } from 'oxenmq-ts';
const text = (parts) => parts.map((p) => new TextDecoder().decode(p));
globalThis.run = async (cfg) => {
  const out = {};
  const omq = new OxenMQ({ logger: { warn() {}, error() {}, info() {}, debug() {} } });
  let pushed;
  const push = new Promise((resolve) => (pushed = resolve));
  omq.addCategory('page', AuthLevel.none).addCommand('notify', (m) => pushed(text(m.data)));
  await omq.start();
  out.hasBuffer = typeof globalThis.Buffer !== 'undefined' || typeof globalThis.process !== 'undefined';

  const conn = await omq.connectRemote(cfg.curve);
  const reply = await omq.request(conn, 'rpc.echo', ['hello', new Uint8Array([0, 255, 7])]);
  out.echo = [text(reply)[0], Array.from(reply[1])];
  out.replyType = Object.prototype.toString.call(reply[0]);
  omq.send(conn, 'rpc.push', 'from the page');
  out.pushed = await push;

  const t0 = performance.now();
  try {
    await omq.connectRemote(cfg.wrongKey, { timeout: 3000 });
    out.wrongKey = 'connected';
  } catch (err) {
    out.wrongKey = err.code;
  }
  out.wrongKeyMs = performance.now() - t0;

  const plain = await omq.connectRemote(cfg.libzmq);
  out.libzmq = text(await omq.request(plain, 'rpc.echo', ['via libzmq']));

  const viaGateway = await omq.connectRemote(cfg.gateway);
  out.gateway = text(await omq.request(viaGateway, 'rpc.echo', ['via the gateway']));
  await omq.close();
  return out;
};
`;

describe('browser: the package in headless Chromium', function () {
  this.timeout(60_000);
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close();
    for (const c of cleanup.reverse()) await c();
  });

  it('bundles for the browser with no Node built-in, then talks CURVE, plain to libzmq and through the gateway', async () => {
    // The page, bundled from the package as a dependency resolves it (its exports map).
    const dir = mkdtempSync(join(tmpdir(), 'omq-page-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'oxenmq-ts'), 'dir');
    writeFileSync(join(dir, 'page.js'), PAGE);
    const bundle = await build({ entryPoints: [join(dir, 'page.js')], absWorkingDir: dir, bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs.some((f) => f.endsWith('dist/lib/browser.js'))).to.equal(true);
    expect(inputs.filter((f) => f.startsWith('node:') || /\/(node-platform|node|router|ws|ws-stream|worker-pool)\.js$/.test(f))).to.deep.equal([]);

    const site = http.createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.outputFiles[0]!.text);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => site.close(resolve)));
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;

    // An OxenMQ server with a CURVE ws listener: echo, and a command pushed back on request.
    const server = new OxenMQ({ logger: quiet, wsAllowOrigin: [origin] });
    server
      .addCategory('rpc', AuthLevel.none)
      .addRequestCommand('echo', (m) => m.sendReply(...m.data))
      .addCommand('push', (m) => m.sendBack('page.notify', 'pushed', ...m.data));
    const wsEndpoint = server.listenCurve('ws://127.0.0.1:0/omq');
    await server.start();
    cleanup.push(() => server.close());
    const hostPath = (await wsEndpoint).slice('ws://'.length);

    // A libzmq ROUTER on ws:// (plain): answers OxenMQ's HI and echoes requests.
    const zport = await freePort();
    const router = new zmq.Router();
    await router.bind(`ws://127.0.0.1:${zport}/zmq`);
    cleanup.push(() => router.close());
    void (async () => {
      for await (const [id, ...frames] of router) {
        const cmd = frames[0]!.toString();
        if (cmd === 'HI') await router.send([id!, 'HELLO']);
        else if (cmd === 'rpc.echo') await router.send([id!, 'REPLY', frames[1]!, 'libzmq says', ...frames.slice(2)]);
      }
    })().catch(() => {});

    // A node behind a gateway: the page reaches it over ws+CURVE, the gateway over curve://.
    const node = new OxenMQ({ logger: quiet });
    node.addCategory('rpc', AuthLevel.none).addRequestCommand('echo', (m) => m.sendReply('node says', ...m.data));
    const nodeEndpoint = node.listenCurve('tcp://127.0.0.1:0');
    await node.start();
    cleanup.push(() => node.close());
    const nodePort = (await nodeEndpoint).split(':').pop();
    const gw = await Gateway.start({
      listen: 'ws://127.0.0.1:0/gw',
      upstream: `curve://127.0.0.1:${nodePort}/${toHex(node.pubkey)}`,
      forward: ['rpc.'],
      allowOrigin: [origin],
      oxenmq: { logger: quiet },
    });
    cleanup.push(() => gw.close());

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(origin);
    await page.waitForFunction(() => typeof (globalThis as { run?: unknown }).run === 'function');
    const out = await page.evaluate(
      (cfg) => (globalThis as unknown as { run(c: unknown): Promise<Record<string, unknown>> }).run(cfg),
      {
        curve: `ws+curve://${hostPath}/${toHex(server.pubkey)}`,
        wrongKey: `ws+curve://${hostPath}/${toHex(generateKeypair().publicKey)}`,
        libzmq: `ws://127.0.0.1:${zport}/zmq`,
        gateway: `ws+curve://${gw.endpoints[0]!.slice('ws://'.length)}/${toHex(gw.pubkey)}`,
      },
    );
    expect(errors).to.deep.equal([]);
    expect(out.hasBuffer, 'the page has neither Buffer nor process').to.equal(false);
    expect(out.echo).to.deep.equal(['hello', [0, 255, 7]]);
    expect(out.replyType).to.equal('[object Uint8Array]');
    expect(out.pushed).to.deep.equal(['pushed', 'from the page']);
    expect(out.wrongKey).to.equal('ERR_OMQ_CONNECT_FAILED');
    expect(out.wrongKeyMs as number).to.be.below(5000);
    expect(out.libzmq).to.deep.equal(['libzmq says', 'via libzmq']);
    expect(out.gateway).to.deep.equal(['node says', 'via the gateway']);
  });
});
