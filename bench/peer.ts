/**
 * Entry of a forked bench peer (dist/bench/peer.js): answers the orchestrator's requests over
 * the IPC channel and exits when the parent disconnects, so an interrupted CLI leaves no
 * stray processes. It prints nothing: the parent's stdout may be a JSON document.
 */
import type { PeerRequest, PeerResponse } from './protocol.js';
import { PeerRuntime } from './runtime.js';

const runtime = new PeerRuntime();

function reply(msg: PeerResponse): void {
  process.send?.(msg);
}

process.on('message', (raw) => {
  const req = raw as PeerRequest;
  const work: Promise<unknown> =
    req.op === 'serve' ? runtime.serve(req.spec) : req.op === 'stop' ? runtime.stop(req.server) : runtime.run(req.spec);
  work.then(
    (value) => reply({ id: req.id, ok: true, value: value ?? null }),
    (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

process.on('disconnect', () => {
  void runtime.closeAll().finally(() => process.exit(0));
});
