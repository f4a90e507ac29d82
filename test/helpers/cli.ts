// Runs bin/ingot as a user would (a child process), so exit codes, stdout and stderr are the real ones.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INGOT_BIN = fileURLToPath(new URL('../../bin/ingot', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runIngot(args: readonly string[], opts: { input?: string; cwd?: string } = {}): CliResult {
  const r = spawnSync(INGOT_BIN, args as string[], {
    cwd: opts.cwd ?? REPO_ROOT,
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
