import crypto from 'node:crypto';

/** A client's WireGuard keys, base64 as wg(8) writes them (32 bytes each). */
export interface WireGuardKeys {
  privateKey: string;
  publicKey: string;
  presharedKey: string;
}

/** A new X25519 key pair and a preshared key, from Node's crypto (no shell-out to `wg`). */
export function generateWireGuardKeys(): WireGuardKeys {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'jwk' }).d!;
  const pub = publicKey.export({ format: 'jwk' }).x!;
  return {
    privateKey: Buffer.from(priv, 'base64url').toString('base64'),
    publicKey: Buffer.from(pub, 'base64url').toString('base64'),
    presharedKey: crypto.randomBytes(32).toString('base64'),
  };
}

/** The public key of a base64 private key (to check a .conf against its peer). */
export function publicKeyOf(privateKey: string): string {
  const key = crypto.createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(privateKey, 'base64').toString('base64url'), x: '' },
    format: 'jwk',
  });
  return Buffer.from(crypto.createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString(
    'base64',
  );
}

/** A WireGuard key as RouterOS and wg(8) print it: 32 bytes of base64, 44 characters. */
export const WIREGUARD_KEY_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
