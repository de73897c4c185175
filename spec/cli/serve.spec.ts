/**
 * `oxenmq serve` as a child process: what it prints at start, the echo commands answered for
 * `oxenmq request`/`send` (and for an OxenMQ client in this process) on plain and CURVE
 * listeners over tcp and ipc, each message printed in every format, and a clean stop on
 * SIGINT/SIGTERM.
 */
import { expect } from 'chai';
import net from 'node:net';
import { join } from 'node:path';
import { generateKeypair } from '../../curve/index.js';
import { OxenMQ } from '../../lib/index.js';
import { toHex } from '../../lib/oxenc/index.js';
import { Serve, oxenmq, show, tempDir, tempFile } from './helpers.js';

interface Listening {
  event: 'listening';
  pubkey: string;
  addresses: string[];
}

interface Received {
  event: 'message';
  command: string;
  request: boolean;
  remote: string;
  pubkey: string | null;
  parts: (string | { hex: string })[];
}

const events = (s: Serve) => s.lines.map((l) => JSON.parse(l) as Listening | Received | { event: 'stopped' });
const messages = (s: Serve) => events(s).filter((e): e is Received => e.event === 'message');
const started = (lines: readonly string[]) => lines.length > 0;
const quiet = { warn() {}, error() {} };

describe('cli serve', () => {
  describe('with plain and CURVE listeners over tcp and ipc (--json)', () => {
    const dir = tempDir();
    const node = generateKeypair();
    let serve: Serve;
    let listening: Listening;

    before(async () => {
      const keyFile = tempFile(dir, 'node.key', `${toHex(node.secretKey)}\n`);
      serve = await Serve.start(
        [
          '--json',
          '--seckey',
          `@${keyFile}`,
          '--listen',
          'tcp://127.0.0.1:0',
          '--listen',
          `ipc://${join(dir, 'plain.sock')}`,
          '--curve-listen',
          'tcp://127.0.0.1:0',
          '--curve-listen',
          `ipc://${join(dir, 'curve.sock')}`,
        ],
        started,
      );
      listening = events(serve)[0] as Listening;
    });

    after(() => serve.stop());

    it('prints its pubkey (from --seckey) and one connectable address per listener, CURVE ones with the key', () => {
      expect(listening.event).to.equal('listening');
      expect(listening.pubkey).to.equal(toHex(node.publicKey));
      const [tcp, ipc, curveTcp, curveIpc] = listening.addresses as [string, string, string, string];
      expect(listening.addresses).to.have.length(4);
      expect(tcp).to.match(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect(ipc).to.equal(`ipc://${join(dir, 'plain.sock')}`);
      expect(curveTcp).to.match(new RegExp(`^curve://127\\.0\\.0\\.1:[1-9]\\d*/${listening.pubkey}$`));
      expect(curveIpc).to.equal(`ipc+curve://${join(dir, 'curve.sock')}/${listening.pubkey}`);
    });

    it('echo.echo replies with its parts on every listener, and each request is printed with its sender', async () => {
      const gen = await oxenmq(['keygen']);
      const [sec, pub] = gen.stdout.split('\n') as [string, string];
      const before = messages(serve).length;
      const runs = await Promise.all(
        listening.addresses.map((a, i) => oxenmq(['request', '--json', '--seckey', sec, '--hex-args', a, 'echo.echo', toHex(Buffer.from(`via ${i}`)), '00ff', ''])),
      );
      for (const r of runs) expect(r.code, show(r)).to.equal(0);
      expect(runs.map((r) => JSON.parse(r.stdout) as unknown)).to.deep.equal(listening.addresses.map((_, i) => [`via ${i}`, { hex: '00ff' }, '']));
      await serve.until((l) => l.length >= 1 + before + 4, 'four messages');
      const got = messages(serve).slice(before).sort((a, b) => String(a.parts[0]).localeCompare(String(b.parts[0])));
      expect(got.map((m) => [m.command, m.request, m.remote, m.pubkey])).to.deep.equal([
        ['echo.echo', true, '127.0.0.1', null],
        ['echo.echo', true, 'localhost', null],
        ['echo.echo', true, '127.0.0.1', pub],
        ['echo.echo', true, 'localhost', pub],
      ]);
      expect(got[0]!.parts).to.deep.equal(['via 0', { hex: '00ff' }, '']);
    });

    it('echo.ping replies pong', async () => {
      const r = await oxenmq(['request', listening.addresses[2]!, 'echo.ping']);
      expect(r.code, show(r)).to.equal(0);
      expect(r.stdout).to.equal('pong\n');
    });

    it('echo.log takes a plain message (oxenmq send) and only prints it', async () => {
      const before = messages(serve).length;
      const r = await oxenmq(['send', listening.addresses[3]!, 'echo.log', 'noted', '-'], { stdin: Buffer.from([0xff]) });
      expect(r.code, show(r)).to.equal(0);
      await serve.until(() => messages(serve).length > before, 'the logged message');
      const m = messages(serve)[before]!;
      expect([m.command, m.request, m.parts]).to.deep.equal(['echo.log', false, ['noted', { hex: 'ff' }]]);
    });

    it('answers an OxenMQ client in-process too', async () => {
      const client = new OxenMQ({ logger: quiet });
      await client.start();
      try {
        const conn = await client.connectRemote(listening.addresses[2]!);
        const reply = await client.request(conn, 'echo.echo', ['a', Buffer.from([0])]);
        expect(reply.map((b) => toHex(b))).to.deep.equal(['61', '00']);
      } finally {
        await client.close(0);
      }
    });
  });

  describe('text, --hex and --bt output', () => {
    const shows = async (format: string[], parts: string[]) => {
      const s = await Serve.start([...format, '--listen', 'tcp://127.0.0.1:0'], (l) => l.length >= 2);
      try {
        const address = s.lines[1]!.replace(/^listening on /, '');
        const r = await oxenmq(['request', '--hex-args', address, 'echo.echo', ...parts]);
        expect(r.code, show(r)).to.equal(0);
        // The node prints a message before it replies, so it is all out before the stop.
        const stopped = await s.stop('SIGINT');
        expect(stopped.code, show(stopped)).to.equal(0);
        expect(s.lines.at(-1)).to.equal('stopped');
        return s.lines;
      } finally {
        await s.stop();
      }
    };

    it('text: pubkey, listening address, then each message with its parts quoted, or 0x-hex when not printable', async () => {
      const lines = await shows([], [toHex(Buffer.from('hi "you"')), '00ff', toHex(Buffer.from('\x1b[2J')), '']);
      expect(lines[0]).to.match(/^pubkey [0-9a-f]{64}$/);
      expect(lines[1]).to.match(/^listening on tcp:\/\/127\.0\.0\.1:\d+$/);
      // A peer's control characters (here: clear screen) never reach the terminal as they are.
      expect(lines.slice(2)).to.deep.equal(['echo.echo (request) from 127.0.0.1: 4 parts', '  "hi \\"you\\""', '  0x00ff', '  0x1b5b324a', '  ""', 'stopped']);
    });

    it('--hex: each part in hex', async () => {
      const lines = await shows(['--hex'], ['00ff', '41']);
      expect(lines.slice(2)).to.deep.equal(['echo.echo (request) from 127.0.0.1: 2 parts', '  00ff', '  41', 'stopped']);
    });

    it('--bt: each part pretty-printed, indented under its message', async () => {
      const lines = await shows(['--bt'], [toHex(Buffer.from('d1:ali1ei2eee'))]);
      expect(lines.slice(2)).to.deep.equal(['echo.echo (request) from 127.0.0.1: 1 part', '  {', '    "a": [', '      1,', '      2', '    ]', '  }', 'stopped']);
    });
  });

  describe('start and stop', () => {
    it('stops cleanly on SIGTERM and on SIGINT, with a client still connected (exit 0, "stopped" last)', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const s = await Serve.start(['--json', '--curve-listen', 'tcp://127.0.0.1:0'], started);
        const client = new OxenMQ({ logger: quiet });
        await client.start();
        try {
          await client.connectRemote((events(s)[0] as Listening).addresses[0]!);
          const r = await s.stop(signal);
          expect(r.code, show(r)).to.equal(0);
          expect(r.stderr).to.equal('');
          expect(events(s).at(-1)).to.deep.equal({ event: 'stopped' });
        } finally {
          await client.close(0);
        }
      }
    });

    it('without --seckey it makes a random key and prints it', async () => {
      const s = await Serve.start(['--json', '--curve-listen', 'tcp://127.0.0.1:0'], started);
      await s.stop();
      const { pubkey, addresses } = events(s)[0] as Listening;
      expect(pubkey).to.match(/^[0-9a-f]{64}$/);
      expect(addresses[0]!.endsWith(`/${pubkey}`)).to.equal(true);
    });

    it('a port in use exits 4 with one line naming the listener', async () => {
      const blocker = net.createServer();
      await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const r = await oxenmq(['serve', '--listen', `tcp://127.0.0.1:${port}`]);
        expect(r.code, show(r)).to.equal(4);
        expect(r.stdout).to.equal('');
        expect(r.stderr).to.equal(`oxenmq serve: cannot listen on tcp://127.0.0.1:${port}: EADDRINUSE\n`);
      } finally {
        blocker.close();
      }
    });

    it('usage errors exit 1: nothing to listen on, a CURVE address to listen on, a stray argument, a bad key', async () => {
      const cases: [string[], RegExp][] = [
        [[], /nothing to listen on/],
        [['--curve-listen', `curve://127.0.0.1:1/${toHex(generateKeypair().publicKey)}`], /--curve-listen takes tcp:\/\/ or ipc:\/\//],
        [['--listen', 'udp://127.0.0.1:5'], /is not a tcp:\/\/HOST:PORT or ipc:\/\/PATH address/],
        [['--listen', 'tcp://127.0.0.1:0', 'extra'], /unexpected argument "extra"/],
        [['--listen', 'tcp://127.0.0.1:0', '--seckey', 'zz'], /--seckey must be a 32-byte key/],
      ];
      const runs = await Promise.all(cases.map(([args]) => oxenmq(['serve', ...args])));
      runs.forEach((r, i) => {
        expect(r.code, show(r)).to.equal(1);
        expect(r.stderr).to.match(cases[i]![1]);
        expect(r.stderr).to.match(/\nusage: oxenmq serve /);
      });
    });
  });
});
