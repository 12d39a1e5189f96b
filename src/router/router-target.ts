/**
 * How to reach one router: plain, decrypted connection settings built by the DB layer.
 * The adapter never stores or logs the password; it only hands it to the RouterOS login.
 */
export interface RouterTarget {
  /** Our router id; names the API session in the pool and appears in errors. */
  id: string;
  host: string;
  /** API port; 0 falls back to 8729 with TLS, 8728 without. */
  port: number;
  /** api-ssl (the default for routers) when true; plain API only when false. */
  tls: boolean;
  username: string;
  password: string;
  /** PEM of the CA that signed the router's certificate; trusted for this router only. */
  caPem?: string | null;
  /** SHA-256 fingerprint of the router's own certificate (hex, colons optional). */
  fingerprintSha256?: string | null;
  /** Connect and per-command timeout in ms; the pool's default when absent. */
  timeoutMs?: number;
}

/** RouterOS's default API ports. */
export const API_PORT = 8728;
export const API_SSL_PORT = 8729;

/**
 * The port to dial. routeros-api 1.0.2 fills in 8728 before its TLS default of 8729 can apply, so
 * we always pass a port ourselves and pick the TLS default here.
 */
export function effectivePort(target: Pick<RouterTarget, 'port' | 'tls'>): number {
  if (Number.isInteger(target.port) && target.port > 0) return target.port;
  return target.tls ? API_SSL_PORT : API_PORT;
}

/** `host:port` for messages (no credentials). */
export function describeTarget(target: RouterTarget): string {
  return `router ${target.id} (${target.host}:${effectivePort(target)})`;
}
