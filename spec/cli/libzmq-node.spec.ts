/**
 * `oxenmq request` and `oxenmq send` against a libzmq 4.3 ROUTER (the `zeromq` package) that
 * answers as a C++ oxenmq node does (upstream `oxenmq/proxy.cpp`, `oxenmq/oxenmq.cpp`): `[HI]`
 * gets `[HELLO]`, a request `[cmd][tag][args…]` gets `[REPLY][tag][parts…]`, a request the
 * peer may not make gets `[FORBIDDEN][REPLY][tag]` (or its kin), an unknown command
 * `[UNKNOWNCOMMAND][cmd]`. Plain and CURVE, tcp and ipc: the wire is libzmq's own.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { generateKeypair, z85Decode } from '../../curve/index.js';
import { btEncode, toHex } from '../../lib/oxenc/index.js';
import { waitFor } from '../helpers/net.js';
import { oxenmq, show, tempDir } from './helpers.js';

const GET_INFO = '{"status":"OK","height":1234,"nettype":"mainnet"}';
const BT_INFO = btEncode({ height: 1234, top_block_hash: Buffer.alloc(32, 0xab), status: 'OK' });

/** A libzmq ROUTER that speaks the OxenMQ convention the way a C++ node answers it. */
class LibzmqNode {
  /** Every message received, without the route. */
  readonly seen: Uint8Array[][] = [];
  readonly router: zmq.Router;
  readonly publicKey: Uint8Array | undefined;
  private readonly loop: Promise<void>;

  private constructor(router: zmq.Router, publicKey: Uint8Array | undefined) {
    this.router = router;
    this.publicKey = publicKey;
    this.loop = this.serve();
  }

  static async start(curve: boolean, endpoint: string): Promise<LibzmqNode> {
    const keys = curve ? zmq.curveKeyPair() : undefined;
    const router = new zmq.Router(keys ? { curveServer: true, curveSecretKey: keys.secretKey } : {});
    await router.bind(endpoint);
    return new LibzmqNode(router, keys ? z85Decode(keys.publicKey) : undefined);
  }

  /** The address `oxenmq request` takes for this node. */
  get address(): string {
    const ep = this.router.lastEndpoint!;
    if (this.publicKey === undefined) return ep;
    const key = toHex(this.publicKey);
    return ep.startsWith('ipc://') ? `ipc+curve://${ep.slice(6)}/${key}` : `curve://${ep.slice(6)}/${key}`;
  }

  private async serve(): Promise<void> {
    try {
      for await (const [route, ...frames] of this.router) {
        this.seen.push(frames);
        const answer = LibzmqNode.answer(frames);
        if (answer) await this.router.send([route!, ...answer]);
      }
    } catch {
      // the router was closed
    }
  }

  private static answer(frames: Uint8Array[]): (string | Uint8Array)[] | undefined {
    const cmd = frames[0]?.toString() ?? '';
    const tag = frames[1];
    switch (cmd) {
      case 'HI':
        return ['HELLO'];
      case 'rpc.get_info':
        return ['REPLY', tag!, '200', GET_INFO];
      case 'rpc.get_info_bt':
        return ['REPLY', tag!, BT_INFO];
      case 'rpc.echo':
        return ['REPLY', tag!, ...frames.slice(2)];
      case 'admin.forbidden':
        return ['FORBIDDEN', 'REPLY', tag!];
      case 'sn.needs_sn':
        return ['NOT_A_SERVICE_NODE', 'REPLY', tag!];
      case 'rpc.silent':
      case 'rpc.note':
        return undefined;
      default:
        return ['UNKNOWNCOMMAND', cmd];
    }
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
  }
}

describe('cli against a libzmq ROUTER answering as a C++ oxenmq node', () => {
  const dir = tempDir();

  for (const [curve, transport] of [
    [false, 'tcp'],
    [false, 'ipc'],
    [true, 'tcp'],
    [true, 'ipc'],
  ] as const) {
    it(`${curve ? 'CURVE' : 'plain'} over ${transport}: HI, HELLO, then the request [cmd][15-byte tag][parts] and its reply printed`, async () => {
      const node = await LibzmqNode.start(curve, transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${join(dir, `${curve}.sock`)}`);
      try {
        const r = await oxenmq(['request', node.address, 'rpc.get_info', '{"fields":{"height":true}}']);
        expect(r.code, show(r)).to.equal(0);
        expect(r.stderr).to.equal('');
        expect(r.stdout).to.equal(`200\n${GET_INFO}\n`);
        expect(node.seen.map((m) => m[0]!.toString())).to.deep.equal(['HI', 'rpc.get_info']);
        const [, request] = node.seen as [Buffer[], Buffer[]];
        expect(request).to.have.length(3);
        expect(request[1]).to.have.length(15);
        expect(request[2]!.toString()).to.equal('{"fields":{"height":true}}');
      } finally {
        await node.close();
      }
    });
  }

  describe('over CURVE tcp', () => {
    let node: LibzmqNode;
    before(async () => {
      node = await LibzmqNode.start(true, 'tcp://127.0.0.1:*');
    });
    after(() => node.close());

    it('--json and --bt show the reply parts', async () => {
      const [json, bt] = await Promise.all([oxenmq(['request', '--json', node.address, 'rpc.get_info']), oxenmq(['request', '--bt', node.address, 'rpc.get_info_bt'])]);
      expect(json.code, show(json)).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.equal(['200', GET_INFO]);
      expect(bt.code, show(bt)).to.equal(0);
      expect(bt.stdout).to.equal(`{\n  "height": 1234,\n  "status": "OK",\n  "top_block_hash": 0x${'ab'.repeat(32)}\n}\n`);
    });

    it('binary parts go out byte for byte and come back so (--hex-args, --hex)', async () => {
      const r = await oxenmq(['request', '--hex', '--hex-args', node.address, 'rpc.echo', '00ff00', '', 'c328']);
      expect(r.code, show(r)).to.equal(0);
      expect(r.stdout).to.equal('00ff00\n\nc328\n');
    });

    it('--pubkey with the tcp:// address reaches the CURVE node', async () => {
      const plainAddress = node.router.lastEndpoint!;
      const r = await oxenmq(['request', '--pubkey', toHex(node.publicKey!), plainAddress, 'rpc.get_info']);
      expect(r.code, show(r)).to.equal(0);
      expect(r.stdout).to.equal(`200\n${GET_INFO}\n`);
    });

    it('[FORBIDDEN][REPLY][tag] exits 2 with FAIL FORBIDDEN; [NOT_A_SERVICE_NODE][REPLY][tag] likewise', async () => {
      const [forbidden, notSn] = await Promise.all([oxenmq(['request', node.address, 'admin.forbidden']), oxenmq(['request', node.address, 'sn.needs_sn'])]);
      expect(forbidden.code, show(forbidden)).to.equal(2);
      expect(forbidden.stderr).to.equal('FAIL FORBIDDEN\n');
      expect(forbidden.stdout).to.equal('');
      expect(notSn.code, show(notSn)).to.equal(2);
      expect(notSn.stderr).to.equal('FAIL NOT_A_SERVICE_NODE\n');
    });

    it('no answer, and an UNKNOWNCOMMAND answer, both end in a timeout: exit 3', async () => {
      const runs = await Promise.all([oxenmq(['request', '--timeout', '300', node.address, 'rpc.silent']), oxenmq(['request', '--timeout', '300', node.address, 'rpc.no_such'])]);
      for (const r of runs) {
        expect(r.code, show(r)).to.equal(3);
        expect(r.stderr).to.match(/^FAIL TIMEOUT: no reply to rpc\.\w+ within 300 ms\n$/);
      }
    });

    it('send: HI, then [cmd][parts] with no tag; exit 0', async () => {
      const before = node.seen.length;
      const r = await oxenmq(['send', node.address, 'rpc.note', 'a', '-'], { stdin: Buffer.from([0, 1]) });
      expect(r.code, show(r)).to.equal(0);
      await waitFor(() => node.seen.length >= before + 2, 'HI and the message');
      const [hi, msg] = node.seen.slice(before) as [Buffer[], Buffer[]];
      expect(hi.map(String)).to.deep.equal(['HI']);
      expect(msg.map((b) => toHex(b))).to.deep.equal([toHex(Buffer.from('rpc.note')), '61', '0001']);
    });

    it('a wrong server key: libzmq drops the handshake, exit 4 after --connect-timeout', async () => {
      const wrong = toHex(generateKeypair().publicKey);
      const endpoint = node.router.lastEndpoint!;
      const r = await oxenmq(['request', '--connect-timeout', '400', '--pubkey', wrong, endpoint, 'rpc.get_info']);
      expect(r.code, show(r)).to.equal(4);
      expect(r.stderr).to.match(/not established within 400 ms \(nothing answering, or not the server key of this listener\)\n$/);
    });
  });
});
