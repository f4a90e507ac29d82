// Main-thread side of the liveness worker (member-worker.ts): the same Membership interface as the in-thread
// UdpMembership, backed by the worker's last posted view. If the worker dies, this side reports "not ready"
// at once (so the announcer stops claiming: the others will see us silent and take over) and restarts it
// after a second, with a new incarnation.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../worker.js';
import type { Logger, LogLevel } from '../log.js';
import { emptyDrops, type Membership, type MembershipHooks, type MembershipView, type UdpMembershipOptions } from './member-driver.js';
import type { LocalView, MemberInput } from './membership.js';
import { keyProblem, type DropReason } from './wire.js';

/** workerData: the driver's options without the parts that cannot cross a thread. */
export interface WorkerInit extends Omit<UdpMembershipOptions, 'clock' | 'wall' | 'log' | 'key'> {
  readonly key: Uint8Array;
  readonly refreshMs?: number;
  readonly threadPriority?: number | null;
}

export type ToWorker =
  | { readonly t: 'start' }
  | { readonly t: 'setLocal'; readonly local: LocalView }
  | { readonly t: 'setMembers'; readonly members: readonly MemberInput[] }
  | { readonly t: 'sendNow' }
  | { readonly t: 'stop' };

export type FromWorker =
  | { readonly t: 'started'; readonly view: MembershipView }
  | { readonly t: 'startError'; readonly message: string }
  | { readonly t: 'view'; readonly view: MembershipView }
  | { readonly t: 'drops'; readonly counts: Partial<Record<DropReason, number>> }
  | { readonly t: 'up'; readonly name: string; readonly restarted: boolean }
  | { readonly t: 'down'; readonly name: string; readonly reason: 'timeout' | 'left'; readonly silentMs: number }
  | { readonly t: 'log'; readonly level: LogLevel; readonly event: string; readonly fields: Record<string, unknown> }
  | { readonly t: 'stopped' };

export interface WorkerMembershipOptions extends Omit<UdpMembershipOptions, 'clock' | 'wall' | 'log'> {
  readonly log?: Logger;
  /** How often the worker posts a fresh view for /status (ms). */
  readonly refreshMs?: number;
  /** Delay before restarting a crashed worker (ms). */
  readonly restartMs?: number;
  /**
   * Nice value for the liveness thread only (Linux nice is per thread): default -10, so heartbeats keep flowing
   * when the node's CPUs are saturated (keepalived raises its VRRP process the same way). Needs CAP_SYS_NICE;
   * without it the thread keeps the default and says so. null leaves it alone.
   */
  readonly threadPriority?: number | null;
}

/** The liveness worker (member-worker.ts / .js beside this file). */
function spawn(init: WorkerInit): Worker {
  return startWorker(import.meta.url, 'member-worker', init);
}

export class WorkerMembership implements Membership {
  private worker: Worker | null = null;
  private last: MembershipView;
  private readonly hooks: MembershipHooks[] = [];
  private local: LocalView = { claims: new Map(), excluded: false };
  private members: readonly MemberInput[];
  private readonly drops = emptyDrops();
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: WorkerMembershipOptions) {
    const problem = keyProblem(opts.key);
    if (problem !== null) throw new Error(problem);
    this.members = opts.members;
    this.last = { self: opts.self, ready: false, members: [], drops: emptyDrops() };
  }

  on(hooks: MembershipHooks): void {
    this.hooks.push(hooks);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const { log: _log, restartMs: _r, key, ...rest } = this.opts;
      const init: WorkerInit = { ...rest, members: this.members, key: new Uint8Array(key) };
      let settled = false;
      const w = spawn(init);
      this.worker = w;
      w.on('message', (msg: FromWorker) => {
        try {
          if (msg.t === 'started') {
            settled = true;
            // Hand over what the announcer set before the worker was up.
            w.postMessage({ t: 'setLocal', local: this.local } satisfies ToWorker);
            this.setView(msg.view);
            resolve();
          } else if (msg.t === 'startError') {
            settled = true;
            reject(new Error(msg.message));
          } else this.onMessage(msg);
        } catch (err) {
          this.opts.log?.error('memberThreadError', { error: err });
        }
      });
      w.on('error', (err) => {
        this.opts.log?.error('memberWorkerCrashed', { error: err });
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      w.on('exit', (code) => {
        if (this.worker === w) this.worker = null;
        if (this.stopping) return;
        this.opts.log?.error('memberWorkerExited', { code });
        // Nobody speaks for us any more: stop claiming, then try again.
        this.setView({ ...this.last, ready: false, members: this.last.members.filter((m) => m.status === 'self') });
        if (settled) this.scheduleRestart();
      });
      w.postMessage({ t: 'start' } satisfies ToWorker);
    });
  }

  private scheduleRestart(): void {
    if (this.restartTimer !== null || this.stopping) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start().catch((err: unknown) => {
        this.opts.log?.error('memberWorkerRestartFailed', { error: err });
        this.scheduleRestart();
      });
    }, this.opts.restartMs ?? 1000);
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.t) {
      case 'view':
        this.setView(msg.view);
        return;
      case 'drops':
        for (const [reason, n] of Object.entries(msg.counts) as [DropReason, number][]) {
          this.drops[reason] += n;
          for (let i = 0; i < n; i++) this.emit((h) => h.onDrop?.(reason, 'from worker', null));
        }
        return;
      case 'up':
        this.emit((h) => h.onMemberUp?.(msg.name, msg.restarted));
        return;
      case 'down':
        this.emit((h) => h.onMemberDown?.(msg.name, msg.reason, msg.silentMs));
        return;
      case 'log': {
        const log = this.opts.log;
        if (log !== undefined) log[msg.level](msg.event, msg.fields);
        return;
      }
      default:
        return;
    }
  }

  /** Every posted view is announced: the announcer's recompute is cheap and idempotent. */
  private setView(view: MembershipView): void {
    const changed = view.ready !== this.last.ready || membersDiffer(view, this.last);
    this.last = view;
    if (changed) this.emit((h) => h.onChange?.(this.view()));
  }

  private emit(fn: (h: MembershipHooks) => void): void {
    for (const h of this.hooks) {
      try {
        fn(h);
      } catch (err) {
        this.opts.log?.error('memberListenerFailed', { error: err });
      }
    }
  }

  view(): MembershipView {
    return { ...this.last, drops: { ...this.drops } };
  }

  setLocal(local: LocalView): void {
    this.local = local;
    this.worker?.postMessage({ t: 'setLocal', local } satisfies ToWorker);
  }

  setMembers(members: readonly MemberInput[]): void {
    this.members = members;
    this.worker?.postMessage({ t: 'setMembers', members } satisfies ToWorker);
  }

  sendNow(): void {
    this.worker?.postMessage({ t: 'sendNow' } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    const w = this.worker;
    if (w === null) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => void w.terminate().finally(resolve), 2000);
      w.once('exit', () => {
        clearTimeout(done);
        resolve();
      });
      w.postMessage({ t: 'stop' } satisfies ToWorker);
    });
  }
}

/** Whether the parts the ownership decision reads differ (status, claims, exclusion), ignoring lastHeard. */
function membersDiffer(a: MembershipView, b: MembershipView): boolean {
  if (a.members.length !== b.members.length) return true;
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i];
    const y = b.members[i];
    if (x === undefined || y === undefined) return true;
    if (x.name !== y.name || x.status !== y.status || x.excluded !== y.excluded || x.claims.size !== y.claims.size) return true;
    for (const [ip, s] of x.claims) if (y.claims.get(ip) !== s) return true;
  }
  return false;
}
