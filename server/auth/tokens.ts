/**
 * API tokens: 256 random bits, shown once at creation; only their SHA-256 is stored. A token has a
 * role: `agent` sends samples, `viewer` reads (API, live stream, dashboard), `admin` does both and
 * manages tokens and chip ownership. Pure helpers here; storage in token-store.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ROLES = ['agent', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a request needs: to send samples, to read, or to administer. */
export type Access = 'ingest' | 'read' | 'admin';

const GRANTS: Record<Role, readonly Access[]> = {
  agent: ['ingest'],
  viewer: ['read'],
  admin: ['ingest', 'read', 'admin'],
};

export function allows(role: Role, access: Access): boolean {
  return GRANTS[role].includes(access);
}

/** Who is asking: a token's id, name and role; `tokenId` null on an open hub (auth off). */
export interface Principal {
  tokenId: string | null;
  name: string;
  role: Role;
}

/** The principal of every request on a hub started with auth off. */
export const OPEN_PRINCIPAL: Principal = { tokenId: null, name: 'open hub', role: 'admin' };

/** A token as listed (never its secret or hash). */
export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt: number | null;
}

const TOKEN_PREFIX = 'fst_';

/** A new secret token (`fst_` + 43 base64url characters = 256 bits). */
export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** A new public token id (`tok_` + 12 hex characters), safe to log and show. */
export function newTokenId(): string {
  return 'tok_' + randomBytes(6).toString('hex');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Does `text` have the shape of a token at all (cheap check before hashing)? */
export function looksLikeToken(text: string): boolean {
  return text.length >= 16 && text.length <= 256 && /^[\x21-\x7e]+$/.test(text);
}
