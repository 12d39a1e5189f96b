/**
 * What the whole test run sent and what its server processes wrote, for the suite-wide log scan
 * (test/security/suite-log-scan.test.ts): the helpers note every password, API key and client token
 * they send or receive, and every server's output.
 */
export const suiteTraffic = {
  outputs: [] as string[][],
  secrets: new Set<string>(),
};

/** Shorter values (e.g. "pw") could appear in a log by coincidence; real secrets here are longer. */
const MIN_LENGTH = 8;

export function noteSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= MIN_LENGTH) suiteTraffic.secrets.add(value);
}

/** Notes every `password` anywhere in GraphQL variables, and every `token` in an answer. */
export function noteSecretsIn(value: unknown, name: 'password' | 'token'): void {
  const pending = [value];
  while (pending.length) {
    const item = pending.pop();
    if (!item || typeof item !== 'object') continue;
    for (const [key, child] of Object.entries(item)) {
      if (key === name) noteSecret(child);
      else pending.push(child);
    }
  }
}

/** Notes the private and preshared keys of every WireGuard config (`[Interface] PrivateKey = …`) in an answer. */
export function noteWireGuardKeysIn(value: unknown): void {
  const pending = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === 'string') {
      for (const m of item.matchAll(/^(?:PrivateKey|PresharedKey) = (\S+)$/gm)) noteSecret(m[1]);
    } else if (item && typeof item === 'object') pending.push(...Object.values(item));
  }
}
