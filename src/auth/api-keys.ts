import crypto from 'node:crypto';

/** API keys look like `mvpn_<43 base64url chars>` (256 random bits), so a plain SHA-256 is a safe hash. */
export const API_KEY_PREFIX = 'mvpn_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

export function looksLikeApiKey(key: string): boolean {
  return key.startsWith(API_KEY_PREFIX) && key.length <= 128;
}
