/**
 * The WebAssembly SIMD XSalsa20-Poly1305 kernel (curve/box-kernel.ts) against libsodium
 * (libsodium-wrappers) and against the TypeScript path, at block, Poly1305 and chunk edges; forged
 * boxes; in-place operation; the wipe of its memory; and the fallbacks (disabled, no WebAssembly,
 * a module that does not compile) and the other runtimes, in child processes.
 */
import { expect } from 'chai';
import sodium from 'libsodium-wrappers';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { open, PrefixedBox, seal } from '../../curve/box.js';
import { KERNEL_MIN_BYTES, kernelMemory, kernelOpen, kernelSeal, setKernelEnabled, useKernel } from '../../curve/box-kernel.js';
import { MESSAGE_CLIENT_PREFIX } from '../../curve/nonce.js';
import { hsalsa20, keyWords, readLE32 } from '../../curve/salsa20.js';
import { prng, randomBytesFrom } from './helpers.js';
import { counterNonce } from '../helpers/nonce.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/**
 * 64992 is what chunk 0 holds (65024 keystream bytes less the 32 of the Poly1305 key) and 130016
 * two chunks: lengths on either side of both, block and Poly1305 edges, and the threshold.
 */
const LENGTHS = [
  0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 4095, 4096, 64991, 64992, 64993, 65024, 65536, 130015, 130016,
  130017, 200000,
];

function subkeyOf(key: Uint8Array, nonce: Uint8Array): Uint32Array {
  return hsalsa20(keyWords(key, 0, new Uint32Array(8)), nonce, 0, new Uint32Array(8));
}


const isClean = () => kernelMemory().every((b) => b === 0);

describe('curve/box-kernel (WebAssembly SIMD XSalsa20-Poly1305)', function () {
  this.timeout(60_000);
  const rand = prng(0x5a17);

  before(async () => {
    await sodium.ready;
    expect(setKernelEnabled(true), 'the kernel loads under Node').to.equal(true);
  });
  afterEach(() => {
    setKernelEnabled(true);
  });

  it('kernelSeal/kernelOpen match libsodium crypto_secretbox at every edge and 40 random lengths, and leave the memory zeroed', () => {
    const lengths = [...LENGTHS, ...Array.from({ length: 40 }, () => rand(140_000))];
    for (const len of lengths) {
      const key = randomBytesFrom(rand, 32);
      const nonce = randomBytesFrom(rand, 24);
      const msg = randomBytesFrom(rand, len);
      const sub = subkeyOf(key, nonce);
      const n0 = readLE32(nonce, 16);
      const n1 = readLE32(nonce, 20);
      const off = rand(5);
      const out = new Uint8Array(off + 16 + len + 3);
      kernelSeal(sub, n0, n1, -1, msg, 0, len, out, off);
      const theirs = sodium.crypto_secretbox_easy(msg, nonce, key);
      expect(same(out.subarray(off, off + 16 + len), theirs), `seal of ${len} bytes`).to.equal(true);
      expect(out.subarray(0, off).every((b) => b === 0) && out.subarray(off + 16 + len).every((b) => b === 0)).to.equal(true);
      expect(isClean(), `memory after sealing ${len} bytes`).to.equal(true);
      const back = new Uint8Array(len + 2).fill(0xee);
      expect(kernelOpen(sub, n0, n1, false, theirs, 0, len, back, 1), `open of ${len} bytes`).to.equal(0);
      expect(same(back.subarray(1, 1 + len), msg)).to.equal(true);
      expect([back[0], back[len + 1]]).to.deep.equal([0xee, 0xee]);
      expect(isClean(), `memory after opening ${len} bytes`).to.equal(true);
    }
  });

  it('box.ts gives the same boxes through the kernel (which derives the subkey itself) and the TypeScript path, both equal to libsodium and opening each other', () => {
    const key = randomBytesFrom(rand, 32);
    const lengths = [...LENGTHS, KERNEL_MIN_BYTES - 1, KERNEL_MIN_BYTES, ...Array.from({ length: 30 }, () => rand(9000))];
    for (const len of lengths) {
      const nonce = randomBytesFrom(rand, 24);
      const msg = randomBytesFrom(rand, len);
      expect(setKernelEnabled(false)).to.equal(false);
      expect(useKernel(len)).to.equal(false);
      const ts = seal(key, nonce, msg);
      expect(setKernelEnabled(true)).to.equal(true);
      expect(useKernel(len)).to.equal(len >= KERNEL_MIN_BYTES);
      const wasm = seal(key, nonce, msg);
      expect(same(wasm, ts), `length ${len}`).to.equal(true);
      expect(same(wasm, sodium.crypto_box_easy_afternm(msg, nonce, key))).to.equal(true);
      expect(isClean(), `memory after sealing ${len} bytes`).to.equal(true);
      const at = 1 + rand(7);
      const into = new Uint8Array(at + 16 + len + 2);
      seal(key, nonce, msg, into, at);
      expect(same(into.subarray(at, at + 16 + len), ts) && into.subarray(0, at).every((b) => b === 0)).to.equal(true);
      const back = new Uint8Array(at + len + 1).fill(0xee);
      expect(open(key, nonce, ts, back, at)).to.equal(back);
      expect(same(back.subarray(at, at + len), msg) && back[0] === 0xee && back[at + len] === 0xee).to.equal(true);
      expect(isClean(), `memory after opening ${len} bytes`).to.equal(true);
      setKernelEnabled(false);
      expect(same(open(key, nonce, wasm)!, msg)).to.equal(true);
    }
  });

  it('PrefixedBox seals flags ‖ payload like libsodium and opens it in place, as the MESSAGE codec does', () => {
    const key = randomBytesFrom(rand, 32);
    const box = new PrefixedBox(key, MESSAGE_CLIENT_PREFIX);
    for (const len of [...LENGTHS, ...Array.from({ length: 20 }, () => rand(70_000))]) {
      const hi = rand(3);
      const lo = rand(0x7fffffff);
      const flags = rand(256);
      const payload = randomBytesFrom(rand, len);
      const out = new Uint8Array(17 + len);
      box.sealFlagged(hi, lo, flags, payload, out, 0);
      const plain = new Uint8Array(1 + len);
      plain[0] = flags;
      plain.set(payload, 1);
      expect(same(out, sodium.crypto_box_easy_afternm(plain, counterNonce(MESSAGE_CLIENT_PREFIX, hi, lo), key)), `length ${len}`).to.equal(true);
      // In place: the plaintext lands on the ciphertext's own bytes after the flags.
      expect(box.openFlagged(hi, lo, out, 0, len + 1, out.subarray(17))).to.equal(flags);
      expect(same(out.subarray(17), payload)).to.equal(true);
      expect(isClean()).to.equal(true);
    }
  });

  it('seals in place (message and ciphertext the same bytes), through box.ts and straight into the kernel', () => {
    const key = randomBytesFrom(rand, 32);
    const box = new PrefixedBox(key, MESSAGE_CLIENT_PREFIX);
    for (const len of [33, 64, 1000, 4096, 64992, 64993, 150_000]) {
      const msg = randomBytesFrom(rand, len);
      const buf = new Uint8Array(16 + len + 1);
      buf.set(msg, 16);
      box.seal(0, 9, buf, 16, len, buf, 0);
      const nonce = counterNonce(MESSAGE_CLIENT_PREFIX, 0, 9);
      expect(same(buf.subarray(0, 16 + len), sodium.crypto_box_easy_afternm(msg, nonce, key)), `length ${len}`).to.equal(true);
      expect(box.open(0, 9, buf, 0, len, buf, 16)).to.equal(true);
      expect(same(buf.subarray(16, 16 + len), msg)).to.equal(true);
    }
  });

  it('rejects a box with any tampered tag or ciphertext byte, in either chunk, writing nothing', () => {
    const key = randomBytesFrom(rand, 32);
    const nonce = randomBytesFrom(rand, 24);
    const sub = subkeyOf(key, nonce);
    const n0 = readLE32(nonce, 16);
    const n1 = readLE32(nonce, 20);
    for (const len of [33, 100, 4096, 70_000, 140_000]) {
      const msg = randomBytesFrom(rand, len);
      const good = seal(key, nonce, msg);
      const sites = [0, 15, 16, 16 + len - 1, 16 + rand(len), ...(len > 65_000 ? [16 + 65_000, 16 + len - 3] : [])];
      for (const site of sites) {
        const bad = new Uint8Array(good);
        bad[site]! ^= 1 << rand(8);
        const dst = new Uint8Array(len).fill(0xaa);
        expect(kernelOpen(sub, n0, n1, false, bad, 0, len, dst, 0), `length ${len}, byte ${site}`).to.equal(-1);
        expect(dst.every((b) => b === 0xaa)).to.equal(true);
        expect(isClean()).to.equal(true);
        expect(open(key, nonce, bad, dst)).to.equal(null);
        expect(dst.every((b) => b === 0xaa)).to.equal(true);
        expect(isClean()).to.equal(true);
      }
      // Truncated by one byte, and a wrong nonce.
      expect(open(key, nonce, good.subarray(0, good.length - 1))).to.equal(null);
      const other = new Uint8Array(nonce);
      other[23]! ^= 1;
      expect(open(key, other, good)).to.equal(null);
      expect(same(open(key, nonce, good)!, msg)).to.equal(true);
    }
  });

  it('wipes its memory even when a caller\'s array is too small and the copy out throws', () => {
    const key = randomBytesFrom(rand, 32);
    const box = new PrefixedBox(key, MESSAGE_CLIENT_PREFIX);
    const msg = randomBytesFrom(rand, 4096);
    expect(() => box.seal(0, 1, msg, 0, msg.length, new Uint8Array(100), 0)).to.throw(RangeError);
    expect(isClean()).to.equal(true);
    const boxed = new Uint8Array(16 + msg.length);
    box.seal(0, 2, msg, 0, msg.length, boxed, 0);
    expect(() => box.open(0, 2, boxed, 0, msg.length, new Uint8Array(10), 0)).to.throw(RangeError);
    expect(isClean()).to.equal(true);
  });

  describe('fallbacks and runtimes (child processes)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const nonce = Uint8Array.from({ length: 24 }, (_, i) => 200 - i);
    const msg = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 255);
    let expected = '';
    let dir = '';

    before(() => {
      expected = Buffer.from(sodium.crypto_box_easy_afternm(msg, nonce, key)).toString('hex');
      dir = mkdtempSync(join(tmpdir(), 'omq-kernel-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    /** A script that seals and opens the 5000-byte box after `preamble`, printing what it saw. */
    function script(name: string, preamble: string): string {
      const file = join(dir, `${name}.mjs`);
      const url = (p: string) => new URL(p, `file://${root}`).href;
      writeFileSync(
        file,
        `${preamble}
const { useKernel } = await import(${JSON.stringify(url('dist/curve/box-kernel.js'))});
const { seal, open } = await import(${JSON.stringify(url('dist/curve/box.js'))});
const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const nonce = Uint8Array.from({ length: 24 }, (_, i) => 200 - i);
const msg = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 255);
const used = useKernel(msg.length);
const boxed = seal(key, nonce, msg);
const back = open(key, nonce, boxed);
const hex = Array.from(boxed, (b) => b.toString(16).padStart(2, '0')).join('');
console.log(JSON.stringify({ used, hex, opened: back !== null && back.every((b, i) => b === msg[i]) }));
`,
      );
      return file;
    }

    async function node(file: string, env: NodeJS.ProcessEnv = process.env): Promise<{ used: boolean; hex: string; opened: boolean }> {
      const { stdout } = await run(process.execPath, [file], { cwd: root, env, timeout: 30_000 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!);
    }

    it('OXENMQ_TS_WASM=0 keeps every box on the TypeScript path, with the same bytes', async () => {
      const r = await node(script('env', ''), { ...process.env, OXENMQ_TS_WASM: '0' });
      expect(r).to.deep.equal({ used: false, hex: expected, opened: true });
    });

    it('without WebAssembly, or when the module does not compile (no SIMD), the TypeScript path serves', async () => {
      const none = await node(script('none', 'globalThis.WebAssembly = undefined;'));
      expect(none).to.deep.equal({ used: false, hex: expected, opened: true });
      const refused = await node(
        script('nosimd', `const W = globalThis.WebAssembly;
globalThis.WebAssembly = { ...W, Module: function () { throw new W.CompileError('SIMD unsupported'); } };`),
      );
      expect(refused).to.deep.equal({ used: false, hex: expected, opened: true });
    });

    it('Node uses the kernel by default and produces libsodium\'s box', async () => {
      expect(await node(script('node', ''))).to.deep.equal({ used: true, hex: expected, opened: true });
    });

    for (const rt of [
      { name: 'Bun', args: (f: string) => ['run', f] },
      { name: 'Deno', args: (f: string) => ['run', '--quiet', '--no-prompt', '--allow-read', f] },
    ]) {
      it(`${rt.name} loads the kernel and produces libsodium's box`, async () => {
        const file = script(rt.name.toLowerCase(), '');
        const { stdout } = await run(join(root, 'node_modules', '.bin', rt.name.toLowerCase()), rt.args(file), { cwd: root, timeout: 30_000 });
        expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).to.deep.equal({ used: true, hex: expected, opened: true });
      });
    }
  });
});
