// One `ingot speaker` process (bin/ingot, standalone mode) inside a lab namespace: writes its config and
// cluster files, collects its JSON log lines from stderr, and waits for events in them (e.g. `ready`,
// `sessionUp`) or for its exit. For interop suites; usable by any of them.
//
//   const sp = SpeakerProcess.start(lab, 'node1', { nodeName: 'node1', config, cluster, listen: '10.0.0.2:179' });
//   await sp.waitFor('ready');
//   sp.signal('SIGTERM'); assert.equal(await sp.exited(), 0);
import { execFileSync, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NetnsLab } from '../../../../src/lab/netns.js';
import { waitFor } from '../../../../src/lab/netns.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const INGOT_BIN = join(repo, 'bin/ingot');

export type LogLine = Record<string, unknown> & { event?: string; level?: string };

/**
 * Builds dist/ once (bin/ingot rebuilds when src/ is newer), outside any namespace and before timing
 * anything, so a suite's first speaker does not spend its startup in tsc.
 */
export function buildIngot(): void {
  execFileSync(INGOT_BIN, ['--version'], { stdio: 'ignore', timeout: 180_000 });
}

export interface SpeakerStartOptions {
  nodeName: string;
  /** MetalLB config text. */
  config: string;
  /** Cluster file text (Kubernetes objects). */
  cluster: string;
  /** `--bgp-listen` (default `off`). */
  listen?: string;
  /** `--metrics-addr` (default 127.0.0.1:7472, inside the namespace). */
  metricsAddr?: string;
  logLevel?: string;
  /** Directory for the two files (default: a lab temp dir). */
  dir?: string;
}

export class SpeakerProcess {
  readonly lines: LogLine[] = [];
  readonly other: string[] = [];
  readonly configFile: string;
  readonly clusterFile: string;
  private exit: number | null | undefined = undefined;
  private readonly exitPromise: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly ns: string,
    readonly metricsAddr: string,
    files: { config: string; cluster: string },
  ) {
    this.configFile = files.config;
    this.clusterFile = files.cluster;
    createInterface({ input: child.stderr! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as LogLine);
      } catch {
        this.other.push(l);
      }
    });
    child.stdout!.on('data', (d: Buffer) => this.other.push(d.toString()));
    this.exitPromise = new Promise((resolve) => child.once('exit', (code) => resolve((this.exit = code))));
  }

  static start(lab: NetnsLab, ns: string, o: SpeakerStartOptions): SpeakerProcess {
    const dir = o.dir ?? lab.tempDir(`sp-${o.nodeName}`);
    const files = { config: join(dir, 'config.yaml'), cluster: join(dir, 'cluster.yaml') };
    writeFileSync(files.config, o.config);
    writeFileSync(files.cluster, o.cluster);
    const metricsAddr = o.metricsAddr ?? '127.0.0.1:7472';
    const child = lab.spawn(ns, INGOT_BIN, [
      'speaker',
      '--node-name',
      o.nodeName,
      '--config',
      files.config,
      '--cluster',
      files.cluster,
      '--metrics-addr',
      metricsAddr,
      '--bgp-listen',
      o.listen ?? 'off',
      '--log-level',
      o.logLevel ?? 'debug',
      // /status answers loopback clients only unless told; these tests read it on the node's own address.
      ...(metricsAddr.startsWith('127.') ? [] : ['--public-status']),
    ]);
    return new SpeakerProcess(child, lab.ns(ns), metricsAddr, files);
  }

  /** The first log line with `event` (after `from` lines) matching `pred`. */
  async waitFor(event: string, pred: (l: LogLine) => boolean = () => true, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    return waitFor(
      `speaker log event ${event} (exit ${String(this.exit)}; last lines: ${this.tail()})`,
      () => {
        if (this.exit !== undefined) throw new Error(`speaker exited with ${String(this.exit)}: ${this.tail()}`);
        return this.lines.slice(from).find((l) => l.event === event && pred(l));
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Replaces a file the way editors do: write a temporary file, rename it over the old one. */
  replaceFile(which: 'config' | 'cluster', text: string): void {
    const f = which === 'config' ? this.configFile : this.clusterFile;
    const tmp = `${f}.tmp-${process.pid}`;
    writeFileSync(tmp, text);
    renameSync(tmp, f);
  }

  /** GET on the metrics address, from inside the namespace. */
  http(path: string): { status: number; body: string } {
    const out = execFileSync('ip', ['netns', 'exec', this.ns, 'curl', '-s', '-w', '\n%{http_code}', `http://${this.metricsAddr}${path}`], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  }

  status<T = Record<string, unknown>>(): T {
    return JSON.parse(this.http('/status').body) as T;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  exited(timeoutMs = 15_000): Promise<number | null> {
    return Promise.race([
      this.exitPromise,
      new Promise<number | null>((_, reject) => setTimeout(() => reject(new Error(`speaker did not exit within ${timeoutMs} ms: ${this.tail()}`)), timeoutMs).unref()),
    ]);
  }

  tail(n = 8): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.other.slice(-3)].join(' | ');
  }
}
