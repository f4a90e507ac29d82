// Kubernetes Events with MetalLB's reasons, posted only when something changed.
//
// MetalLB's recorder posts on every sync, so a Service collects "nodeAssigned x6503" (issue #1682). Here the
// recorder remembers, per involved object (by uid, else kind/ns/name), the last event it posted; the same type,
// reason and message again is dropped. A different one is posted and remembered, so a flip
// (IPAllocated → AllocationFailed → IPAllocated) is reported each time it happens, while resyncs stay quiet.
// forget(obj) drops the memory when the object is deleted; the memory is bounded (oldest entries go first).
//
// Posting never throws: a failure is logged and forgotten, so the next identical call tries again.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import type { KubeApi } from './resources.js';
import { metaTime, type CoreEvent, type KubeObject, type ObjectReference } from './types.js';

/** MetalLB's reasons (../shared/spec/metallb-compat.md §2.9). */
export const EventReason = {
  IPAllocated: 'IPAllocated',
  AllocationFailed: 'AllocationFailed',
  LoadBalancerFailed: 'LoadBalancerFailed',
  NoLbIPsIPFamily: 'nolbIPsIPFamily',
  NoClusterIPsIPFamily: 'noclusterIPsIPFamily',
  InternalError: 'InternalError',
  NodeAssigned: 'nodeAssigned',
} as const;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  api: Pick<KubeApi, 'createEvent'>;
  /** `source.component` / `reportingComponent`, e.g. `metallb-controller` as MetalLB's. */
  component: string;
  /** `source.host` and `reportingInstance` (the node for the speaker, the identity for the controller). */
  host?: string;
  logger: Logger;
  /** Wall clock for the timestamps. */
  now?: () => number;
  /** Objects remembered at most (default 50,000). */
  maxObjects?: number;
}

export class EventRecorder {
  private readonly last = new Map<string, string>();
  /**
   * One copy of each recent signature: the speaker posts the same `nodeAssigned` message for thousands of
   * Services, and the memory keeps a signature per object (memory at 10,000 Services, issue 9 §7).
   */
  private readonly sigs = new Map<string, string>();
  private readonly now: () => number;
  private readonly max: number;
  private posted = 0;
  private suppressed = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.now = opts.now ?? Date.now;
    this.max = opts.maxObjects ?? 50_000;
  }

  /** Posts the event unless it is the same as the last one posted for this object. Resolves true if posted. */
  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<boolean> {
    const ref = referenceOf(obj);
    const key = identity(ref);
    const sig = this.intern(`${type}\0${reason}\0${message}`);
    if (this.last.get(key) === sig) {
      this.suppressed++;
      return false;
    }
    this.last.delete(key); // re-insert at the end: Map order is the eviction order
    this.last.set(key, sig);
    if (this.last.size > this.max) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    const t = this.now();
    const event: CoreEvent = {
      // client-go names events <object>.<unique hex>; the suffix only has to be unique.
      metadata: { name: `${ref.name}.${t.toString(16)}${randomBytes(4).toString('hex')}`, namespace: ref.namespace ?? 'default' },
      involvedObject: ref,
      reason,
      message,
      type,
      source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      firstTimestamp: metaTime(t),
      lastTimestamp: metaTime(t),
      count: 1,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.host ?? '',
    };
    try {
      await this.opts.api.createEvent(event);
      this.posted++;
      return true;
    } catch (err) {
      if (this.last.get(key) === sig) this.last.delete(key);
      this.opts.logger.warn('eventPostFailed', { object: key, reason, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  private intern(s: string): string {
    const v = this.sigs.get(s);
    if (v !== undefined) return v;
    if (this.sigs.size >= 1024) this.sigs.clear();
    this.sigs.set(s, s);
    return s;
  }

  /** Drops what was remembered for an object (call on delete, so a re-created object gets its events). */
  forget(obj: KubeObject): void {
    this.last.delete(identity(referenceOf(obj)));
  }

  get stats(): { posted: number; suppressed: number; remembered: number } {
    return { posted: this.posted, suppressed: this.suppressed, remembered: this.last.size };
  }
}

export function referenceOf(obj: KubeObject): ObjectReference {
  const m = obj.metadata ?? {};
  return {
    kind: obj.kind ?? 'Service',
    apiVersion: obj.apiVersion ?? 'v1',
    name: m.name ?? '',
    ...(m.namespace ? { namespace: m.namespace } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

function identity(ref: ObjectReference): string {
  return ref.uid ?? `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
