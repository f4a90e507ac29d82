// Runs the real kubectl (v1.32 at /usr/bin/kubectl on these machines; Debian's kubernetes-client elsewhere) against
// a kubeconfig, with its discovery cache in a private directory so tests neither read nor write ~/.kube.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The kubectl binary the tests run. */
export const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl';

export interface KubectlResult {
  /** Exit code (0 on success). */
  code: number;
  stdout: string;
  stderr: string;
}

let cacheDir: string | undefined;

/** Runs `kubectl ARGS` with `KUBECONFIG=kubeconfig`; never throws on a non-zero exit (assert on `code`). */
export function kubectl(kubeconfig: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  if (cacheDir === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubectl-cache-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    cacheDir = dir;
  }
  const home = cacheDir;
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      args,
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(home, 'cache') },
        timeout: options.timeoutMs ?? 20_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(new Error(`${KUBECTL} ${args.join(' ')}: ${err.message}`));
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
