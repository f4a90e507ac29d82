// Network-namespace labs (the lab command and the interop tests): namespaces joined by veth pairs (point to point) or by a bridge
// (N members), addresses (IPv6 with `nodad`, so they are usable at once), commands and daemons run inside a
// namespace, and a teardown that stops everything the lab started and deletes its namespaces, even after a
// failure half way through setup. Needs root; see test/helpers/interop.ts for the skip gate.
//
//   const lab = new NetnsLab('igcx');              // every namespace is named igcx-<name>
//   const [a, b] = lab.pair('frr', 'peer', { a: { v4: '10.99.0.1/24' }, b: { v4: '10.99.0.2/24' } });
//   lab.bridge('lan', [{ ns: 'r1', v4: '10.1.0.1/24' }, { ns: 'r2', v4: '10.1.0.2/24' }]);
//   const p = lab.spawn('peer', 'node', ['--import', 'tsx', 'script.ts']);
//   after(() => lab.teardown());
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IfaceAddrs {
  /** IPv4 address with prefix length, e.g. '10.99.0.1/24' */
  v4?: string | readonly string[];
  /** IPv6 address with prefix length, e.g. 'fd00:99::1/64' (added with nodad) */
  v6?: string | readonly string[];
  /** MAC address, for predictable link-local addresses */
  mac?: string;
}

export interface BridgeMember extends IfaceAddrs {
  ns: string;
  /** interface name inside the member namespace; default eth-<bridge> */
  ifname?: string;
}

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= end) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** What a lab made, for a later cleanup by another process. */
export interface LabJournalEntry {
  readonly kind: 'namespace' | 'dir';
  readonly name: string;
}

export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly pidFiles: string[] = [];
  private readonly tempDirs: string[] = [];
  private readonly cleanups: Array<() => void> = [];
  private linkCount = 0;

  private readonly journal: ((entry: LabJournalEntry) => void) | null;

  /**
   * `prefix` must be unique to the test file (it names the namespaces); leftovers from a crash are removed.
   * `journal` hears of every namespace and directory before it is made, so that another process can remove
   * them later (`ingot lab down` after `up`, or after a crash half way through building).
   */
  constructor(prefix: string, opts: { journal?: (entry: LabJournalEntry) => void } = {}) {
    if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) throw new Error(`bad lab prefix ${prefix}`);
    this.prefix = prefix;
    this.journal = opts.journal ?? null;
    for (const ns of NetnsLab.list()) if (ns.startsWith(`${prefix}-`)) NetnsLab.delete(ns);
  }

  static list(): string[] {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((l) => l !== '');
  }

  /** Kills every process inside the namespace, then deletes it (a missing one is fine). */
  static delete(ns: string): void {
    // Processes still inside would keep the network stack alive; kill them first (they are this lab's own).
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    } catch {
      /* namespace already gone */
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }

  /** Full namespace name for a short one. */
  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Creates (once) the namespace `<prefix>-<name>` with loopback up; returns its full name. */
  namespace(name: string): string {
    const full = this.ns(name);
    if (this.namespaces.includes(full)) return full;
    this.journal?.({ kind: 'namespace', name: full });
    execFileSync('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
    return full;
  }

  /** Runs a command inside a namespace and returns its stdout; throws with stderr on a non-zero exit. */
  exec(name: string, cmd: string, args: readonly string[] = [], opts: { input?: string; timeoutMs?: number } = {}): string {
    try {
      return execFileSync('ip', ['netns', 'exec', this.ns(name), cmd, ...args], {
        encoding: 'utf8',
        input: opts.input,
        timeout: opts.timeoutMs ?? 30_000,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`[${this.ns(name)}] ${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  }

  private configure(name: string, ifname: string, a: IfaceAddrs): void {
    if (a.mac) this.exec(name, 'ip', ['link', 'set', ifname, 'address', a.mac]);
    for (const v4 of list(a.v4)) this.exec(name, 'ip', ['addr', 'add', v4, 'dev', ifname]);
    // nodad: duplicate address detection would keep the address "tentative" (unusable) for a second or more.
    for (const v6 of list(a.v6)) this.exec(name, 'ip', ['-6', 'addr', 'add', v6, 'dev', ifname, 'nodad']);
    this.exec(name, 'ip', ['link', 'set', ifname, 'up']);
  }

  /**
   * A veth pair between namespaces `a` and `b` (created if needed), interface `ifname` on both sides (default
   * eth0, eth1, ...). Returns the two full namespace names.
   */
  pair(a: string, b: string, addrs: { a?: IfaceAddrs; b?: IfaceAddrs } = {}, ifname = `eth${this.linkCount}`): [string, string] {
    const nsA = this.namespace(a);
    const nsB = this.namespace(b);
    const tmp = `${this.prefix}v${this.linkCount++}`;
    execFileSync('ip', ['link', 'add', `${tmp}a`, 'netns', nsA, 'type', 'veth', 'peer', 'name', `${tmp}b`, 'netns', nsB]);
    this.exec(a, 'ip', ['link', 'set', `${tmp}a`, 'name', ifname]);
    this.exec(b, 'ip', ['link', 'set', `${tmp}b`, 'name', ifname]);
    this.configure(a, ifname, addrs.a ?? {});
    this.configure(b, ifname, addrs.b ?? {});
    return [nsA, nsB];
  }

  /**
   * A Linux bridge living in its own namespace `<prefix>-<name>`, with one veth per member namespace: a
   * shared segment for N speakers. tcpdump on `br0` in that namespace sees all of it once.
   */
  bridge(name: string, members: readonly BridgeMember[]): string {
    const nsBr = this.namespace(name);
    this.exec(name, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    this.exec(name, 'ip', ['link', 'set', 'br0', 'up']);
    for (const m of members) this.attach(name, m);
    return nsBr;
  }

  /** One more member on a bridge made by bridge(). */
  attach(bridge: string, m: BridgeMember): void {
    const nsBr = this.ns(bridge);
    const nsM = this.namespace(m.ns);
    const ifname = m.ifname ?? `eth-${bridge}`.slice(0, 15);
    const tmp = `${this.prefix}b${this.linkCount++}`;
    execFileSync('ip', ['link', 'add', `${tmp}p`, 'netns', nsBr, 'type', 'veth', 'peer', 'name', `${tmp}m`, 'netns', nsM]);
    this.exec(bridge, 'ip', ['link', 'set', `${tmp}p`, 'master', 'br0', 'up']);
    this.exec(m.ns, 'ip', ['link', 'set', `${tmp}m`, 'name', ifname]);
    this.configure(m.ns, ifname, m);
  }

  /** Spawns a long-running process inside a namespace; teardown() stops it. */
  spawn(name: string, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(name), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    this.children.push(child);
    return child;
  }

  /** Runs a self-daemonizing program (FRR's `-d`, BIRD) and remembers its pid file for teardown(). */
  daemon(name: string, cmd: string, args: readonly string[], pidFile: string): void {
    this.pidFiles.push(pidFile);
    this.exec(name, cmd, args);
  }

  /** A temporary directory removed by teardown(). */
  tempDir(tag = 'lab'): string {
    const d = mkdtempSync(join(tmpdir(), `${this.prefix}-${tag}-`));
    this.journal?.({ kind: 'dir', name: d });
    this.tempDirs.push(d);
    return d;
  }

  /** Extra cleanup to run at teardown (before namespaces are deleted). */
  onTeardown(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Stops every process this lab started, runs the cleanups, deletes its namespaces and temp dirs. */
  async teardown(): Promise<void> {
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const pids: number[] = [];
    for (const f of this.pidFiles) {
      try {
        if (existsSync(f)) pids.push(Number(readFileSync(f, 'utf8').trim()));
      } catch {
        /* unreadable pid file: the namespace sweep below still kills the process */
      }
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) pids.push(c.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const end = Date.now() + 3000;
    while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) NetnsLab.delete(ns);
    for (const d of this.tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    this.children.length = 0;
    this.pidFiles.length = 0;
  }
}
