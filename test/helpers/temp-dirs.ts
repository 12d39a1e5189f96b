import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();

/**
 * A fresh directory under the system's temp dir (`<prefix>XXXXXX`) that is removed when the test
 * process exits, however the test that made it ended: a test run leaves no `/tmp/mvpn-*` behind.
 */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (made.size === 0) process.once('exit', removeTempDirs);
  made.add(dir);
  return dir;
}

/** Removes every directory {@link makeTempDir} made (also run at exit). */
export function removeTempDirs(): void {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  made.clear();
}
