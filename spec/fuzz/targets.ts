/** Every fuzz target, in the order `npm run fuzz` runs them. */
import { curveHelloTarget, curveInitiateTarget, curveMessageTarget, curveReadyTarget, curveWelcomeTarget } from './curve-targets.js';
import type { FuzzTarget } from './runner.js';
import { addressTarget, base32zTarget, base64Target, btTarget, hexTarget, z85Target } from './text-targets.js';
import { commandTarget, decoderTarget, greetingTarget, metadataTarget } from './wire-targets.js';

export const TARGETS: readonly FuzzTarget<never>[] = [
  decoderTarget,
  greetingTarget,
  metadataTarget,
  commandTarget,
  curveHelloTarget,
  curveWelcomeTarget,
  curveInitiateTarget,
  curveReadyTarget,
  curveMessageTarget,
  btTarget,
  addressTarget,
  z85Target,
  base32zTarget,
  hexTarget,
  base64Target,
] as unknown as FuzzTarget<never>[];
