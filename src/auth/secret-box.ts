import crypto from 'node:crypto';
import type { AppConfig } from '../config/app-config';

/** A stored value is under a key id that the key file does not hold (any more, or not yet). */
export class MissingKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`cannot decrypt: key "${keyId}" is not in the key file`);
    this.name = 'MissingKeyError';
  }
}

/**
 * Encrypts secrets at rest (router passwords) with AES-256-GCM: a random 96-bit IV per value and the
 * key id stored with it, so old values stay readable after the active key rotates.
 * Stored form: `<key id>:<iv b64>:<tag b64>:<ciphertext b64>`.
 */
export class SecretBox {
  private reloadKeys: (() => AppConfig['encryption']) | null = null;
  private lastReload = 0;

  constructor(private keys: AppConfig['encryption']) {}

  /**
   * Lets a running server pick up a key file that gained a line (key rotation): on SIGHUP, and by
   * itself when it meets a value under a key id it has not loaded (at most every 5 s).
   */
  reloadFrom(source: () => AppConfig['encryption']): void {
    this.reloadKeys = source;
  }

  /** Reads the keys again; returns the active key id, or throws the ConfigError of a bad key file. */
  reload(): string {
    if (!this.reloadKeys) return this.keys.activeKeyId;
    this.lastReload = Date.now();
    this.keys = this.reloadKeys();
    return this.keys.activeKeyId;
  }

  encrypt(plain: string): string {
    const key = this.keys.keys.get(this.keys.activeKeyId)!;
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      this.keys.activeKeyId,
      iv.toString('base64'),
      tag.toString('base64'),
      body.toString('base64'),
    ].join(':');
  }

  decrypt(stored: string): string {
    const [keyId, iv, tag, body] = stored.split(':');
    if (!this.keys.keys.has(keyId) && this.reloadKeys && Date.now() - this.lastReload > 5000) {
      try {
        this.reload();
      } catch {
        // A key file broken mid-edit: keep the keys we have.
      }
    }
    const key = this.keys.keys.get(keyId);
    if (!key) throw new MissingKeyError(keyId);
    if (!iv || !tag || body === undefined) throw new Error('cannot decrypt: the stored value is malformed');
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  /** The key id a stored value was encrypted with (for rotation). */
  keyIdOf(stored: string): string {
    return stored.split(':')[0];
  }

  get activeKeyId(): string {
    return this.keys.activeKeyId;
  }

  /** Every key, the active one first (client tokens sign with the first and accept them all). */
  keysActiveFirst(): Buffer[] {
    const { activeKeyId, keys } = this.keys;
    return [keys.get(activeKeyId)!, ...[...keys].filter(([id]) => id !== activeKeyId).map(([, key]) => key)];
  }

  /** True when a value under this key id can be decrypted. */
  hasKey(keyId: string): boolean {
    return this.keys.keys.has(keyId);
  }
}

/** A new key line for a key file: `<key id>:<base64 of 32 random bytes>`. */
export function generateKeyLine(
  keyId = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
): string {
  return `${keyId}:${crypto.randomBytes(32).toString('base64')}`;
}
