// Gate for suites that need root, network namespaces and real routers. Outside CI a missing prerequisite
// skips the suite and says why, loudly, on stderr; under CI (CI=true) it fails instead, because CI installs
// everything this machine can run (.ci/run) and a silent skip there would hide a broken install.
import { execFileSync } from 'node:child_process';

export interface InteropNeeds {
  /** executables that must be on PATH (or absolute paths), e.g. 'ip', 'tcpdump', '/usr/lib/frr/bgpd' */
  binaries?: readonly string[];
}

/** Returns null when everything is there, else the reason the suite cannot run. */
export function interopMissing(needs: InteropNeeds = {}): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (platform is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root for network namespaces';
  for (const bin of ['ip', ...(needs.binaries ?? [])]) {
    if (!haveBinary(bin)) return `needs ${bin} (installed by .ci/run)`;
  }
  return null;
}

/**
 * Use as `describe('...', { skip: interopSkip({...}) }, ...)`. Returns false (run) or the skip reason.
 * Under CI a missing prerequisite throws, failing the run.
 */
export function interopSkip(needs: InteropNeeds = {}): string | false {
  const why = interopMissing(needs);
  if (why === null) return false;
  if (process.env.CI === 'true') throw new Error(`interop prerequisite missing in CI: ${why}`);
  process.stderr.write(`\n*** SKIPPING interop suite: ${why} ***\n\n`);
  return why;
}

function haveBinary(bin: string): boolean {
  try {
    if (bin.startsWith('/')) {
      execFileSync('test', ['-x', bin]);
    } else {
      execFileSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', bin]);
    }
    return true;
  } catch {
    return false;
  }
}
