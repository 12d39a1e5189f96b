import crypto from 'node:crypto';

/**
 * Short-lived tokens for the client-area page: minted by the WHMCS module for the logged-in client,
 * they read only that client's services. Format: `mvpnc.<payload b64url>.<HMAC-SHA256 b64url>`;
 * the HMAC key is derived from the active encryption key, so no extra secret needs managing.
 */
export const CLIENT_TOKEN_PREFIX = 'mvpnc.';
export const DEFAULT_CLIENT_TOKEN_TTL_SECONDS = 900;
export const MAX_CLIENT_TOKEN_TTL_SECONDS = 3600;

export interface ClientTokenClaims {
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
  ): { token: string; expiresAt: Date } {
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ c: clientId, s: serviceIds, exp })).toString('base64url');
    return {
      token: `${CLIENT_TOKEN_PREFIX}${payload}.${this.sign(this.keys[0], payload)}`,
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
    let claims: { c: unknown; s: unknown; exp: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (
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
