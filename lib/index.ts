/**
 * oxenmq-ts: the public entry point.
 */
export * from './errors.js';
export { ZmtpError, ZmtpErrorCode, isZmtpError } from '../zmtp/errors.js';
