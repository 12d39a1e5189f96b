import { execFile } from 'node:child_process';
import path from 'node:path';
import { noteSecret } from './suite-traffic';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

/** Runs the real CLI (`whmcs-mikrotik-vpn ...`) as a separate process. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

/** Creates an API key through the CLI and returns it. */
export async function createApiKey(
  databaseUrl: string,
  name: string,
  scope: 'admin' | 'read',
): Promise<string> {
  const result = await runCli(['apikey', 'create', '--name', name, '--scope', scope], {
    DATABASE_URL: databaseUrl,
  });
  if (result.code !== 0) throw new Error(`apikey create failed: ${result.stderr}`);
  noteSecret(result.stdout.trim());
  return result.stdout.trim();
}

/**
 * Runs the real CLI in a pseudo-terminal (util-linux `script`), as an operator at a shell would:
 * stdout and stderr are a TTY, so progress lines are drawn. Returns everything the terminal showed.
 */
export function runCliInTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qefc', command, '/dev/null'],
      { env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env }, timeout: 30_000 },
      (error, stdout) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, output: stdout });
      },
    );
  });
}
