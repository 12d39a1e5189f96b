import type { PeerCertificate } from 'node:tls';
import tls from 'node:tls';
import { RouterError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { connectFailure } from './router-errors';
import { type RouterTarget, describeTarget, effectivePort } from './router-target';

/**
 * TLS settings for api-ssl. Routers are reached by IP and carry certificates from their own,
 * self-made CA, so the trust anchor is pinned per router instead of coming from the system store:
 *
 * - **CA PEM pinned**: OpenSSL verifies the chain against that CA only (`ca`), and
 *   `checkServerIdentity` skips the host-name match (the pinned CA is the identity; the name in a
 *   router certificate rarely matches the IP we dial).
 * - **Leaf fingerprint pinned**: see {@link fetchPinnedLeaf}; the session then trusts exactly that
 *   certificate and `checkServerIdentity` compares the fingerprint again.
 * - **Nothing pinned**: node's default verification (system CAs and the host name).
 *
 * Verification is never switched off for a session that will carry the login.
 */

/** Normalizes a SHA-256 fingerprint to node's `fingerprint256` form (`AB:CD:…`). */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (hex.length !== 64) throw new Error('a SHA-256 fingerprint has 64 hex digits');
  return hex.match(/../g)!.join(':');
}

function pinMismatch(target: RouterTarget): Error {
  const error = new Error(`${describeTarget(target)} presented a certificate other than the pinned one`);
  (error as Error & { code: string }).code = 'ERR_ROUTER_CERT_PIN_MISMATCH';
  return error;
}

function fingerprintCheck(target: RouterTarget, fingerprint: string) {
  return (_host: string, cert: PeerCertificate): Error | undefined =>
    cert.fingerprint256 === fingerprint ? undefined : pinMismatch(target);
}

/**
 * Builds the `tls` options for routeros-api. `pinnedLeafPem` is the certificate fetched by
 * {@link fetchPinnedLeaf} when only a fingerprint is pinned.
 */
export function buildTlsOptions(target: RouterTarget, pinnedLeafPem?: string): tls.ConnectionOptions {
  const fingerprint = target.fingerprintSha256 ? normalizeFingerprint(target.fingerprintSha256) : null;
  if (target.caPem) {
    return {
      ca: target.caPem,
      rejectUnauthorized: true,
      checkServerIdentity: fingerprint ? fingerprintCheck(target, fingerprint) : () => undefined,
    };
  }
  if (fingerprint) {
    if (!pinnedLeafPem) throw new Error('fingerprint pinning needs the certificate from fetchPinnedLeaf');
    return {
      // The pinned certificate is the only trust anchor; a CA-signed router certificate is not
      // self-signed, hence the partial chain.
      ca: pinnedLeafPem,
      allowPartialTrustChain: true,
      rejectUnauthorized: true,
      checkServerIdentity: fingerprintCheck(target, fingerprint),
    };
  }
  return { rejectUnauthorized: true };
}

/**
 * With only a fingerprint pinned there is no CA for OpenSSL to build a chain to, so node would
 * reject the certificate before `checkServerIdentity` ever sees it. This opens a separate TLS
 * connection that sends nothing at all, compares the router's certificate with the pin, and
 * returns it (PEM) to serve as the session's sole trust anchor. The session itself then runs with
 * full verification, so a different server answering the second connection is refused.
 */
export function fetchPinnedLeaf(target: RouterTarget, timeoutMs: number): Promise<string> {
  const fingerprint = normalizeFingerprint(target.fingerprintSha256 ?? '');
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({
      host: target.host,
      port: effectivePort(target),
      // Chain checks are deferred to the pin comparison below; this connection never carries data.
      rejectUnauthorized: false,
    });
    const finish = (error: RouterError | null, pem?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(pem!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new RouterError(
            ErrorCode.ROUTER_TIMEOUT,
            `${describeTarget(target)} did not answer in time`,
            target.id,
          ),
        ),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      if (cert && cert.fingerprint256 === fingerprint) finish(null, cert.toString());
      else finish(connectFailure(target, pinMismatch(target)));
    });
    socket.on('error', (error) => finish(connectFailure(target, error)));
    socket.once('close', () =>
      finish(
        new RouterError(
          ErrorCode.ROUTER_UNREACHABLE,
          `${describeTarget(target)} closed the connection`,
          target.id,
        ),
      ),
    );
  });
}
