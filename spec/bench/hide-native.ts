/**
 * Preloaded by the bench CLI tests (`node --import <this file> dist/bench/cli.js …`) to make the
 * native references look uninstalled, as on a machine that has the published package without
 * its devDependencies. Forked bench peers inherit it through execArgv, so the whole run sees the
 * same. Not a spec itself (mocha loads *.spec.js only).
 */
import { register } from 'node:module';

const HIDDEN = ['zeromq', 'sodium-native', 'libsodium-wrappers'];

// The resolve hook runs on the loader thread, so it is handed over as a module of its own.
const hooks = `
const hidden = new Set(${JSON.stringify(HIDDEN)});
export async function resolve(specifier, context, next) {
  if (hidden.has(specifier)) {
    const err = new Error("Cannot find package '" + specifier + "' (hidden by the bench tests)");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;

register(`data:text/javascript,${encodeURIComponent(hooks)}`);
