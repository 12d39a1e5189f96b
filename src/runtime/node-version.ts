/**
 * The Node.js versions the server runs on: the release lines whose every dependency's `engines`
 * accepts them (package.json `engines.node` says the same; test/unit/node-version.test.ts keeps the
 * two equal). Node.js 20 reached its end of life in April 2026 and stays accepted from 20.19 only
 * because that is what some hosts (and this project's CI) still have; 22 and 24 are the LTS lines.
 */
export const SUPPORTED_NODE: readonly { major: number; minor: number; andLater?: true }[] = [
  { major: 20, minor: 19 },
  { major: 22, minor: 13 },
  { major: 24, minor: 0, andLater: true },
];

/** `^20.19.0 || ^22.13.0 || >=24`: the `engines.node` range of package.json. */
export function supportedNodeRange(): string {
  return SUPPORTED_NODE.map(({ major, minor, andLater }) =>
    andLater ? `>=${major}${minor ? `.${minor}` : ''}` : `^${major}.${minor}.0`,
  ).join(' || ');
}

/** True when `version` (`v22.13.1` or `22.13.1`) is one the server supports. */
export function isSupportedNode(version: string): boolean {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return SUPPORTED_NODE.some((line) =>
    line.andLater
      ? major > line.major || (major === line.major && minor >= line.minor)
      : major === line.major && minor >= line.minor,
  );
}

/** The one line the server and the CLI print before exiting on an older Node.js; null when fine. */
export function unsupportedNodeMessage(version: string): string | null {
  if (isSupportedNode(version)) return null;
  return (
    `whmcs-mikrotik-vpn needs Node.js ${supportedNodeRange()} (22 or 24 LTS recommended); ` +
    `this is Node.js ${version.startsWith('v') ? version : `v${version}`}`
  );
}
