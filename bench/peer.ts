/**
 * Entry of a forked bench peer (dist/bench/peer.js): answers the orchestrator's requests over
 * the IPC channel and exits when the parent disconnects, so an interrupted CLI leaves no
 * stray processes. It prints nothing: the parent's stdout may be a JSON document.
 */
import type { PeerRequest, PeerResponse } from './protocol.js';
import { PeerRuntime } from './runtime.js';
import { cpuUs } from './stopwatch.js';

const runtime = new PeerRuntime();

function reply(msg: PeerResponse): void {
  process.send?.(msg);
}

process.on('message', (raw) => {
  const req = raw as PeerRequest;
  let work: Promise<unknown>;
  switch (req.op) {
    case 'serve':
      work = runtime.serve(req.spec);
      break;
    case 'stop':
      work = runtime.stop(req.server);
      break;
    case 'run':
      work = runtime.run(req.spec);
      break;
    case 'cpu':
      work = Promise.resolve(cpuUs());
      break;
  }
  work.then(
    (value) => reply({ id: req.id, ok: true, value: value ?? null }),
    (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

process.on('disconnect', () => {
  void runtime.closeAll().finally(() => process.exit(0));
});
