import crypto from 'node:crypto';

/**
 * Short-lived tokens for the client-area page: minted by the WHMCS module for the logged-in client,
 * they read only that client's services. Format: `mvpnc.<payload b64url>.<HMAC-SHA256 b64url>`;
 * the HMAC key is derived from the active encryption key, so no extra secret needs managing.
 * Each token has an id (`j`, 16 random bytes) by which it can be revoked on its own; the signature
 * is only the first check — every request also asks the database whether the token was revoked and
 * whether WHMCS still has each of its services under that client (src/services/client-token.service.ts).
 */
export const CLIENT_TOKEN_PREFIX = 'mvpnc.';
export const DEFAULT_CLIENT_TOKEN_TTL_SECONDS = 900;
export const MAX_CLIENT_TOKEN_TTL_SECONDS = 3600;

/** A token id: 16 random bytes, base64url (22 characters). */
export const CLIENT_TOKEN_ID = /^[A-Za-z0-9_-]{22}$/;

export interface ClientTokenClaims {
  /** The token's own id (jti), for revoking it alone. */
  tokenId: string;
  clientId: number;
  serviceIds: number[];
  expiresAt: Date;
}

export type ClientTokenCheck =
  { ok: true; claims: ClientTokenClaims } | { ok: false; reason: 'invalid' | 'expired' };

export class ClientTokens {
  private readonly keys: Buffer[];

  /** `keys`: the active encryption key first; older ones keep tokens valid across a rotation. */
  constructor(encryptionKeys: Buffer[]) {
    this.keys = encryptionKeys.map((key) =>
      Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), 'mvpn client token v1', 32)),
    );
  }

  mint(
    clientId: number,
    serviceIds: number[],
    ttlSeconds: number,
    now = Date.now(),
  ): { token: string; id: string; expiresAt: Date } {
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const id = crypto.randomBytes(16).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ j: id, c: clientId, s: serviceIds, exp })).toString(
      'base64url',
    );
    return {
      token: `${CLIENT_TOKEN_PREFIX}${payload}.${this.sign(this.keys[0], payload)}`,
      id,
      expiresAt: new Date(exp * 1000),
    };
  }

  verify(token: string, now = Date.now()): ClientTokenCheck {
    if (!token.startsWith(CLIENT_TOKEN_PREFIX) || token.length > 4096)
      return { ok: false, reason: 'invalid' };
    const [payload, signature] = token.slice(CLIENT_TOKEN_PREFIX.length).split('.');
    if (!payload || !signature) return { ok: false, reason: 'invalid' };
    const given = Buffer.from(signature, 'base64url');
    const valid = this.keys.some((key) => {
      const expected = Buffer.from(this.sign(key, payload), 'base64url');
      return expected.length === given.length && crypto.timingSafeEqual(expected, given);
    });
    if (!valid) return { ok: false, reason: 'invalid' };
    let claims: { j: unknown; c: unknown; s: unknown; exp: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (
      // Tokens minted before tokens had ids are refused: the page reloads once for a new one.
      typeof claims.j !== 'string' ||
      !CLIENT_TOKEN_ID.test(claims.j) ||
      !Number.isInteger(claims.c) ||
      !Array.isArray(claims.s) ||
      !claims.s.every(Number.isInteger) ||
      typeof claims.exp !== 'number'
    ) {
      return { ok: false, reason: 'invalid' };
    }
    if (claims.exp * 1000 <= now) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      claims: {
        tokenId: claims.j,
        clientId: claims.c as number,
        serviceIds: claims.s as number[],
        expiresAt: new Date(claims.exp * 1000),
      },
    };
  }

  private sign(key: Buffer, payload: string): string {
    return crypto.createHmac('sha256', key).update(payload).digest('base64url');
  }
}
