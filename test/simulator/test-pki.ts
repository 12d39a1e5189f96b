import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * Certificates for the simulator's api-ssl: a self-signed CA and a router certificate it signed,
 * like the ones an admin creates on a router (`/certificate add … ; sign`). No network is involved.
 * Keys are made by node's native crypto (fast); node-forge (shipped with `selfsigned`) only
 * assembles and signs the X.509 structures, with SHA-256 as OpenSSL 3 requires.
 */
export interface TestPki {
  caPem: string;
  /** The router (leaf) certificate. */
  certPem: string;
  keyPem: string;
  /** SHA-256 of the leaf certificate's DER, colon-separated upper-case hex (node's `fingerprint256`). */
  fingerprintSha256: string;
}

function newKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function newCertificate(publicPem: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // Positive serial: a leading 0x00..0x7f byte keeps the DER integer non-negative.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

/**
 * Creates a CA and a router certificate signed by it. `selfSignedLeaf` instead makes a single
 * self-signed router certificate (its own CA), the other common router setup.
 */
export function createTestPki(options: { commonName?: string; selfSignedLeaf?: boolean } = {}): TestPki {
  const commonName = options.commonName ?? 'simulated-router';
  const caKeys = newKeyPair();
  const caSubject = [{ name: 'commonName', value: `${commonName} CA` }];
  const ca = newCertificate(caKeys.publicPem, 3650);
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caKey = forge.pki.privateKeyFromPem(caKeys.privatePem);
  ca.sign(caKey, forge.md.sha256.create());
  const caPem = forge.pki.certificateToPem(ca);
  if (options.selfSignedLeaf) {
    return { caPem, certPem: caPem, keyPem: caKeys.privatePem, fingerprintSha256: fingerprintOf(caPem) };
  }

  const leafKeys = newKeyPair();
  const leaf = newCertificate(leafKeys.publicPem, 825);
  leaf.setSubject([{ name: 'commonName', value: commonName }]);
  leaf.setIssuer(caSubject);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    // Routers are reached by IP; the name usually does not match anyway, which is why the adapter
    // trusts the pinned CA rather than the name.
    { name: 'subjectAltName', altNames: [{ type: 2, value: commonName }] },
  ]);
  leaf.sign(caKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(leaf);
  return { caPem, certPem, keyPem: leafKeys.privatePem, fingerprintSha256: fingerprintOf(certPem) };
}

/** Node's `fingerprint256` of a PEM certificate. */
export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

let shared: TestPki | null = null;

/** One PKI per process, so many simulated routers do not each pay for key generation. */
export function sharedTestPki(): TestPki {
  shared ??= createTestPki();
  return shared;
}
