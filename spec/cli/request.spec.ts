/**
 * `oxenmq request` and `oxenmq send`, run as child processes against an OxenMQ instance this
 * test starts (plain and CURVE listeners over tcp and ipc): every output format, every way to
 * give a part, our key and the server's, and every exit code.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { generateKeypair } from '../../curve/index.js';
import { AuthLevel, OxenMQ } from '../../lib/index.js';
import { btEncode, fromHex, toBase32z, toBase64, toHex } from '../../lib/oxenc/index.js';
import { freePort, waitFor } from '../helpers/net.js';
import { type Run, oxenmq, show, tempDir, tempFile } from './helpers.js';

/** A key that belongs to no listener here. */
const STRANGER = toHex(generateKeypair().publicKey);

describe('cli request and send against an OxenMQ listener', () => {
  const keys = generateKeypair();
  const serverKey = toHex(keys.publicKey);
  const dir = tempDir();
  /** What the listener logs (kept off the test output). */
  const logged: string[] = [];
  const record = (msg: string) => void logged.push(msg);
  const server = new OxenMQ({
    pubkey: keys.publicKey,
    privkey: keys.secretKey,
    logger: { warn: record, error: record, info: record, debug: record },
    logLevel: 'debug',
  });
  /** What `test.note` (a plain command) received, per message. */
  const notes: Buffer[][] = [];
  const at: Record<'tcp' | 'ipc' | 'curveTcp' | 'curveIpc', string> = { tcp: '', ipc: '', curveTcp: '', curveIpc: '' };
  let tcpPort = 0;

  before(async () => {
    server
      .addCategory('test', AuthLevel.none)
      .addRequestCommand('echo', (m) => m.sendReply(...m.data))
      .addRequestCommand('whoami', (m) => m.sendReply(toHex(m.conn.pubkey)))
      .addRequestCommand('reply', (m) => m.sendReply(...m.data.map((d) => fromHex(d.toString()))))
      .addRequestCommand('silent', () => {})
      .addCommand('note', (m) => void notes.push(m.data.map((d) => Buffer.from(d))));
    server.addCategory('admin', AuthLevel.admin).addRequestCommand('echo', (m) => m.sendReply('never'));
    server.addCategory('sn', { remoteSn: true }).addRequestCommand('echo', (m) => m.sendReply('never'));
    server.addCategory('local', { localSn: true }).addRequestCommand('echo', (m) => m.sendReply('never'));
    const plainTcp = server.listenPlain('tcp://127.0.0.1:0');
    const plainIpc = server.listenPlain(`ipc://${join(dir, 'plain.sock')}`);
    const curveTcp = server.listenCurve('tcp://127.0.0.1:0');
    const curveIpc = server.listenCurve(`ipc://${join(dir, 'curve.sock')}`);
    await server.start();
    at.tcp = await plainTcp;
    at.ipc = await plainIpc;
    tcpPort = Number((await curveTcp).split(':').at(-1));
    at.curveTcp = `curve://127.0.0.1:${tcpPort}/${serverKey}`;
    at.curveIpc = `ipc+curve://${join(dir, 'curve.sock')}/${serverKey}`;
  });

  after(() => server.close(0));

  const ok = (r: Run) => {
    expect(r.code, show(r)).to.equal(0);
    expect(r.stderr, show(r)).to.equal('');
  };

  describe('the reply', () => {
    for (const t of ['tcp', 'ipc', 'curveTcp', 'curveIpc'] as const) {
      it(`over ${t}: prints each reply part on its own line, as text`, async () => {
        const r = await oxenmq(['request', at[t], 'test.echo', 'hello', 'wörld', '']);
        ok(r);
        expect(r.stdout).to.equal('hello\nwörld\n\n');
      });
    }

    it('text writes the bytes as they are, even when they are not UTF-8', async () => {
      const r = await oxenmq(['request', at.curveTcp, 'test.reply', '00ff0a', '']);
      ok(r);
      expect(r.stdoutBytes).to.deep.equal(Buffer.from([0x00, 0xff, 0x0a, 0x0a, 0x0a]));
    });

    it('a reply without parts prints nothing (text) or [] (json)', async () => {
      const [text, json] = await Promise.all([oxenmq(['request', at.tcp, 'test.echo']), oxenmq(['request', '--json', at.tcp, 'test.echo'])]);
      ok(text);
      expect(text.stdout).to.equal('');
      ok(json);
      expect(json.stdout).to.equal('[]\n');
    });

    it('--hex prints one line of lower-case hex per part', async () => {
      const r = await oxenmq(['request', '--hex', at.curveTcp, 'test.reply', '00FF', '', '41']);
      ok(r);
      expect(r.stdout).to.equal('00ff\n\n41\n');
    });

    it('--json prints one array: UTF-8 parts as strings (a BOM kept), others as {"hex": …}', async () => {
      const r = await oxenmq(['request', '--json', at.curveTcp, 'test.reply', toHex(Buffer.from('wörld')), 'c328', 'efbbbf41', '']);
      ok(r);
      expect(r.stdout.endsWith('\n')).to.equal(true);
      expect(JSON.parse(r.stdout)).to.deep.equal(['wörld', { hex: 'c328' }, '\ufeffA', '']);
    });

    it('--bt pretty-prints bt-encoded parts: ints, text, hex for binary, nested lists and dicts', async () => {
      const value = btEncode({ height: 1234, hash: Buffer.from('00ff', 'hex'), name: 'oxen\n', list: [-5, 2n ** 64n - 1n, [], {}], empty: '' });
      const r = await oxenmq(['request', '--bt', at.curveTcp, 'test.reply', toHex(value), toHex(Buffer.from('200'))]);
      ok(r);
      expect(r.stdout).to.equal(
        [
          '{',
          '  "empty": "",',
          '  "hash": 0x00ff,',
          '  "height": 1234,',
          '  "list": [',
          '    -5,',
          '    18446744073709551615,',
          '    [],',
          '    {}',
          '  ],',
          '  "name": "oxen\\n"',
          '}',
          '"200"  # not bt-encoded',
          '',
        ].join('\n'),
      );
    });
  });

  describe('the parts sent', () => {
    it('@FILE sends the file bytes, - sends stdin, @@TEXT sends @TEXT', async () => {
      const bin = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a]);
      const file = tempFile(dir, 'part.bin', bin);
      const r = await oxenmq(['request', '--hex', at.curveTcp, 'test.echo', `@${file}`, '-', '@@me', 'plain'], { stdin: Buffer.from([0xc3, 0x28]) });
      ok(r);
      expect(r.stdout).to.equal(`${toHex(bin)}\nc328\n${toHex(Buffer.from('@me'))}\n${toHex(Buffer.from('plain'))}\n`);
    });

    it('--hex-args decodes literal parts from hex (and leaves @FILE and - alone)', async () => {
      const file = tempFile(dir, 'part.txt', 'file bytes');
      const r = await oxenmq(['request', '--json', '--hex-args', at.tcp, 'test.echo', '6869', '', '00ff', `@${file}`, '-'], { stdin: 'in' });
      ok(r);
      expect(JSON.parse(r.stdout)).to.deep.equal(['hi', '', { hex: '00ff' }, 'file bytes', 'in']);
    });

    it('parts that start with - go after --', async () => {
      const r = await oxenmq(['request', at.tcp, 'test.echo', '--', '-5', '--x']);
      ok(r);
      expect(r.stdout).to.equal('-5\n--x\n');
    });
  });

  describe('keys', () => {
    it('without --seckey each run has a new random key', async () => {
      const [a, b] = await Promise.all([oxenmq(['request', at.curveTcp, 'test.whoami']), oxenmq(['request', at.curveTcp, 'test.whoami'])]);
      ok(a);
      ok(b);
      expect(a.stdout).to.match(/^[0-9a-f]{64}\n$/);
      expect(a.stdout).to.not.equal(b.stdout);
    });

    it('--seckey HEX and --seckey @FILE (keygen output) make the listener see our public key', async () => {
      const gen = await oxenmq(['keygen']);
      const [sec, pub] = gen.stdout.split('\n') as [string, string];
      const file = tempFile(dir, 'client.key', gen.stdout);
      const [byHex, byFile] = await Promise.all([
        oxenmq(['request', '--seckey', sec, at.curveTcp, 'test.whoami']),
        oxenmq(['request', '--seckey', `@${file}`, at.curveIpc, 'test.whoami']),
      ]);
      ok(byHex);
      ok(byFile);
      expect(byHex.stdout).to.equal(`${pub}\n`);
      expect(byFile.stdout).to.equal(`${pub}\n`);
    });

    it('--pubkey turns tcp:// and ipc:// into CURVE, taking hex, base32z or base64', async () => {
      const runs = await Promise.all([
        oxenmq(['request', '--pubkey', serverKey, `tcp://127.0.0.1:${tcpPort}`, 'test.whoami']),
        oxenmq(['request', '--pubkey', toBase32z(keys.publicKey), `ipc://${join(dir, 'curve.sock')}`, 'test.whoami']),
        oxenmq(['request', '--pubkey', toBase64(keys.publicKey), `tcp://127.0.0.1:${tcpPort}`, 'test.whoami']),
      ]);
      for (const r of runs) {
        ok(r);
        // Only a CURVE connection has a client key to report.
        expect(r.stdout).to.match(/^[0-9a-f]{64}\n$/);
      }
    });
  });

  describe('exit codes', () => {
    for (const [category, code] of [
      ['admin', 'FORBIDDEN'],
      ['sn', 'FORBIDDEN_SN'],
      ['local', 'NOT_A_SERVICE_NODE'],
    ] as const) {
      it(`an error reply ${code} prints "FAIL ${code}" on stderr and exits 2`, async () => {
        const r = await oxenmq(['request', at.curveTcp, `${category}.echo`, 'x']);
        expect(r.code, show(r)).to.equal(2);
        expect(r.stdout).to.equal('');
        expect(r.stderr).to.equal(`FAIL ${code}\n`);
      });
    }

    it('no reply within --timeout prints FAIL TIMEOUT and exits 3', async () => {
      const r = await oxenmq(['request', '--timeout', '300', at.tcp, 'test.silent']);
      expect(r.code, show(r)).to.equal(3);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal('FAIL TIMEOUT: no reply to test.silent within 300 ms\n');
    });

    it('an unknown command is not answered: exit 3, and --verbose shows the UNKNOWNCOMMAND', async () => {
      const r = await oxenmq(['request', '--verbose', '--timeout', '300', at.tcp, 'test.nonesuch']);
      expect(r.code, show(r)).to.equal(3);
      expect(r.stderr).to.include('[warn] received UNKNOWNCOMMAND for "test.nonesuch"');
      expect(r.stderr).to.match(/FAIL TIMEOUT/);
    });

    it('a refused port, a missing socket file and an unknown host exit 4 at once, with the reason', async () => {
      const port = await freePort();
      // A connect timeout far beyond the test's: these must not wait for it.
      const slow = ['--connect-timeout', '60000'];
      const runs = await Promise.all([
        oxenmq(['request', ...slow, `tcp://127.0.0.1:${port}`, 'test.echo']),
        oxenmq(['request', ...slow, `ipc://${join(dir, 'nothing.sock')}`, 'test.echo']),
        oxenmq(['request', ...slow, 'tcp://no-such-host.invalid:1234', 'test.echo']),
      ]);
      const reasons = ['connection refused (ECONNREFUSED)', 'no such socket file (ENOENT)', 'host not found (ENOTFOUND)'];
      runs.forEach((r, i) => {
        expect(r.code, show(r)).to.equal(4);
        expect(r.stderr).to.match(new RegExp(`^oxenmq request: cannot connect to \\S+: ${reasons[i]!.replace(/[()]/g, '\\$&')}\\n$`));
      });
    });

    it('a wrong server key exits 4 once --connect-timeout has passed', async () => {
      const r = await oxenmq(['request', '--connect-timeout', '500', `curve://127.0.0.1:${tcpPort}/${STRANGER}`, 'test.echo']);
      expect(r.code, show(r)).to.equal(4);
      expect(r.stderr).to.equal(
        `oxenmq request: cannot connect to curve://127.0.0.1:${tcpPort}/${STRANGER}: not established within 500 ms (nothing answering, or not the server key of this listener)\n`,
      );
    });

    it('a prompt connection is not probed: the listener sees no failed handshake', async () => {
      const before = logged.length;
      const r = await oxenmq(['request', at.curveTcp, 'test.echo']);
      ok(r);
      expect(logged.slice(before).filter((l) => /handshake/.test(l))).to.deep.equal([]);
    });

    it('CURVE to a plain listener exits 4 with the mismatch', async () => {
      const r = await oxenmq(['request', '--pubkey', serverKey, at.tcp, 'test.echo']);
      expect(r.code, show(r)).to.equal(4);
      expect(r.stderr).to.match(/^oxenmq request: cannot connect to tcp:\S+: connection refused: .*different security mechanism/);
    });
  });

  describe('usage errors exit 1 with the reason and a usage line', () => {
    const cases: [string, string[], RegExp][] = [
      ['no address', [], /missing ADDRESS and COMMAND/],
      ['no command', ['tcp://127.0.0.1:1'], /missing COMMAND/],
      ['a bad address', ['tcp//x', 'a.b'], /"tcp\/\/x" is not an OxenMQ address/],
      ['two formats', ['--json', '--bt', 'tcp://127.0.0.1:1', 'a.b'], /--json and --bt cannot be combined/],
      ['a bad --timeout', ['--timeout', '1.5s', 'tcp://127.0.0.1:1', 'a.b'], /--timeout takes a whole number of milliseconds/],
      ['a zero --connect-timeout', ['--connect-timeout', '0', 'tcp://127.0.0.1:1', 'a.b'], /--connect-timeout must be between 1 and/],
      ['a bad --pubkey', ['--pubkey', 'xyz', 'tcp://127.0.0.1:1', 'a.b'], /--pubkey must be a 32-byte key/],
      ['--pubkey with a keyed address', ['--pubkey', STRANGER, `curve://127.0.0.1:1/${STRANGER}`, 'a.b'], /this one has one/],
      ['stdin twice', ['tcp://127.0.0.1:1', 'a.b', '-', '-'], /standard input \(-\) can be used for one part only/],
      ['bad hex with --hex-args', ['--hex-args', 'tcp://127.0.0.1:1', 'a.b', '0g'], /part 1 is not hex/],
      ['an unknown option', ['--frob', 'tcp://127.0.0.1:1', 'a.b'], /Unknown option '--frob'/],
      ['an option without its value', ['tcp://127.0.0.1:1', 'a.b', '--timeout'], /--timeout <value>' argument missing/],
    ];
    it('each: no address or command, a bad address, option or value, two formats, stdin twice, bad hex', async () => {
      // Independent runs, in parallel: each is a process start and little else.
      const runs = await Promise.all(cases.map(([, args]) => oxenmq(['request', ...args])));
      runs.forEach((r, i) => {
        const [what, , message] = cases[i]!;
        expect(r.code, `${what}\n${show(r)}`).to.equal(1);
        expect(r.stdout, what).to.equal('');
        const lines = r.stderr.split('\n');
        expect(lines[0], what).to.match(/^oxenmq request: /);
        expect(lines[0], what).to.match(message);
        expect(lines[1], what).to.equal('usage: oxenmq request [options] ADDRESS COMMAND [PART...] (see oxenmq request --help)');
        expect(lines, what).to.have.length(3);
      });
    });

    it('an unreadable @FILE part exits 1 with one line and sends nothing', async () => {
      const before = notes.length;
      const r = await oxenmq(['send', at.tcp, 'test.note', `@${join(dir, 'absent')}`]);
      expect(r.code, show(r)).to.equal(1);
      expect(r.stderr).to.equal(`oxenmq send: cannot read ${join(dir, 'absent')} (part 1): ENOENT\n`);
      expect(notes.length).to.equal(before);
    });
  });

  describe('send', () => {
    it('exits 0 once the message is on the connection; the listener gets every part', async () => {
      const file = tempFile(dir, 'note.bin', Buffer.from([0xff, 0]));
      const before = notes.length;
      const r = await oxenmq(['send', at.curveIpc, 'test.note', 'one', `@${file}`, '-', ''], { stdin: 'three' });
      ok(r);
      expect(r.stdout).to.equal('');
      await waitFor(() => notes.length > before, 'the note');
      expect(notes[before]!.map((b) => b.toString('hex'))).to.deep.equal([toHex(Buffer.from('one')), 'ff00', toHex(Buffer.from('three')), '']);
    });

    it('over plain tcp with --hex-args', async () => {
      const before = notes.length;
      const r = await oxenmq(['send', '--hex-args', at.tcp, 'test.note', 'cafe']);
      ok(r);
      await waitFor(() => notes.length > before, 'the note');
      expect(notes[before]!.map((b) => b.toString('hex'))).to.deep.equal(['cafe']);
    });

    it('exits 4 when there is no connection, sending nothing', async () => {
      const port = await freePort();
      const r = await oxenmq(['send', `tcp://127.0.0.1:${port}`, 'test.note', 'x']);
      expect(r.code, show(r)).to.equal(4);
      expect(r.stderr).to.match(/^oxenmq send: cannot connect to tcp:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)\n$/);
    });

    it('takes no output format', async () => {
      const r = await oxenmq(['send', '--json', at.tcp, 'test.note']);
      expect(r.code, show(r)).to.equal(1);
      expect(r.stderr).to.match(/Unknown option '--json'/);
    });
  });
});
