/**
 * Which browser origins a ws listener accepts (the Origin header, RFC 6455 §4.2.1 and §10.2).
 * Kept apart from ws.ts so that the types of the public entries never need the `ws` package.
 */

/**
 * Which browser origins a ws listener accepts: `'*'` (any), a list of exact origins
 * (`https://app.example`), or a predicate. Requests without an Origin header (not from a
 * browser) are always accepted: only a browser sends one, and only a browser needs stopping from
 * letting any web page reach the listener. Default: none (every request with an Origin is refused).
 */
export type AllowOrigin = '*' | readonly string[] | ((origin: string) => boolean);

/** Whether `origin` (undefined: no Origin header) passes `allow`; a predicate that throws refuses. */
export function originAllowed(allow: AllowOrigin | undefined, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (allow === undefined) return false;
  if (allow === '*') return true;
  if (typeof allow === 'function') {
    try {
      return allow(origin) === true;
    } catch {
      return false;
    }
  }
  return allow.includes(origin);
}
