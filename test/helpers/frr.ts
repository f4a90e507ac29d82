// One FRR 8.4 (zebra + bgpd) inside a namespace of a NetnsLab, for interop tests that need a single router:
// its own pathspace (`-N`), so several suites' daemons and vtysh never meet; configs written to a lab temp
// dir; everything removed by the lab's teardown. Suites with a whole router + nodes topology use
// src/lab/topology.ts instead.
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor, type NetnsLab } from '../../src/lab/netns.js';

export interface FrrRouter {
  /** One vtysh command in this router's pathspace. */
  vtysh(cmd: string): string;
}

/**
 * Starts zebra then bgpd in namespace `ns` with `bgpdConf`, and waits until bgpd answers and its summary
 * mentions `ready` (e.g. the local AS).
 */
export async function startFrr(lab: NetnsLab, ns: string, pathspace: string, bgpdConf: string, ready: string): Promise<FrrRouter> {
  const runDir = `/var/run/frr/${pathspace}`;
  const dir = lab.tempDir('frr');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  chownSync(runDir, uid, gid);
  lab.onTeardown(() => rmSync(runDir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'zebra.conf'), `hostname ${pathspace}-frr\n`);
  writeFileSync(join(dir, 'bgpd.conf'), bgpdConf);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  const vtysh = (cmd: string): string =>
    execFileSync('vtysh', ['-N', pathspace, '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  const common = ['-N', pathspace, '-d', '-u', 'frr', '-g', 'frr'];
  lab.daemon(ns, '/usr/lib/frr/zebra', [...common, '-f', join(dir, 'zebra.conf'), '-i', `${runDir}/zebra.pid`], `${runDir}/zebra.pid`);
  await waitFor('zebra', () => vtysh('show version').includes('FRRouting'), { timeoutMs: 15_000 });
  lab.daemon(ns, '/usr/lib/frr/bgpd', [...common, '-f', join(dir, 'bgpd.conf'), '-i', `${runDir}/bgpd.pid`], `${runDir}/bgpd.pid`);
  await waitFor('bgpd', () => vtysh('show bgp summary json').includes(ready), { timeoutMs: 15_000 });
  return { vtysh };
}
