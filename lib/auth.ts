/**
 * Authentication levels and category access rules (C++ `oxenmq/auth.h`).
 */
import { OmqError, OmqErrorCode } from './errors.js';

/** Auth levels, ordered: each level includes the ones below it (admin ⊃ basic ⊃ none). */
export const AuthLevel = {
  /** Refuse the connection (only meaningful as an Allow result). */
  denied: 0,
  /** Anyone who is admitted. */
  none: 1,
  /** An authenticated client. */
  basic: 2,
  /** Full access. */
  admin: 3,
} as const;

/** One of {@link AuthLevel}'s values. */
export type AuthLevel = (typeof AuthLevel)[keyof typeof AuthLevel];

const NAMES = ['denied', 'none', 'basic', 'admin'] as const;

/** The text form used on the wire in ZAP metadata and in logs. */
export function authLevelName(level: AuthLevel): (typeof NAMES)[number] {
  return NAMES[level];
}

/** True for the four valid levels. */
export function isAuthLevel(v: unknown): v is AuthLevel {
  return v === 0 || v === 1 || v === 2 || v === 3;
}

/** Parses a level from its number or its text form; throws INVALID_ARGUMENT otherwise. */
export function toAuthLevel(v: AuthLevel | string): AuthLevel {
  if (isAuthLevel(v)) return v;
  const i = typeof v === 'string' ? NAMES.indexOf(v as (typeof NAMES)[number]) : -1;
  if (i < 0) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'auth level must be denied, none, basic or admin');
  return i as AuthLevel;
}

/** Who may invoke a category's commands. */
export interface Access {
  /** Minimum auth level of the peer. */
  auth: AuthLevel;
  /** The peer must be a service node (at the time of each message). */
  remoteSn: boolean;
  /** This instance must be running as a service node. */
  localSn: boolean;
}

/** Normalises `AuthLevel | Partial<Access>` (an AuthLevel alone means no SN requirements). */
export function toAccess(a: AuthLevel | string | Partial<Access>): Access {
  if (typeof a === 'object' && a !== null) {
    return { auth: toAuthLevel(a.auth ?? AuthLevel.none), remoteSn: !!a.remoteSn, localSn: !!a.localSn };
  }
  return { auth: toAuthLevel(a), remoteSn: false, localSn: false };
}
