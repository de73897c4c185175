const { WebSocket } = await import('ws');
const zmq = await import('zeromq');
const B = globalThis.Buffer; delete globalThis.Buffer;
const { OxenMQ: Core } = await import('/work/main/dist/lib/core.js');
const { browserConnector } = await import('/work/main/dist/zmtp/ws-browser.js');
globalThis.Buffer = B;
const r = new zmq.Router(); await r.bind('ws://127.0.0.1:41236/zmq');
(async () => { for await (const [id, ...f] of r) { const cmd = f[0].toString();
  if (cmd === 'HI') await r.send([id, 'HELLO']); else await r.send([id, 'REPLY', f[1], 'libzmq says', ...f.slice(2)]); } })();
const o = new Core({}, { connector: browserConnector(WebSocket), parallelism: 2 });
await o.start();
for (let i = 0; i < 4; i++) {
  const c = await o.connectRemote('ws://127.0.0.1:41236/zmq');
  try { console.log(i, (await o.request(c, 'rpc.echo', ['hi'], { timeout: 2000 })).map((x) => new TextDecoder().decode(x))); } catch (e) { console.log(i, 'ERR', e.code); }
}
process.exit(0);
