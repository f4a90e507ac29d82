// Until Layer 2 exists (its own issue), Services of layer2 pools get this announcer: the shared checks
// (exclusion label, endpoints) decide as they will for Layer 2, then the reason `layer2Pool` — never the BGP
// reason `noPeers`, which said nothing true about a layer2 Service.
import { endpointReason } from '../announce/index.js';
import type { Announcer, AnnouncementDetail, EndpointView, NodeView, ServiceView } from './types.js';

/** Reason for a Service whose pool is a layer2 pool while Layer 2 is not implemented. */
export const LAYER2_REASON = 'layer2Pool';

const NONE: AnnouncementDetail = Object.freeze({ prefixes: [], peers: [] });

export class Layer2Placeholder implements Announcer {
  readonly protocol = 'layer2' as const;
  private node: NodeView;

  constructor(nodeName: string) {
    this.node = { name: nodeName, labels: {} };
  }

  setConfig(): void {}
  setNode(node: NodeView): void {
    this.node = node;
  }
  shouldAnnounce(svc: ServiceView, endpoints: readonly EndpointView[]): string | null {
    return endpointReason(svc, endpoints, this.node) ?? LAYER2_REASON;
  }
  setBalancer(): void {}
  deleteBalancer(): void {}
  onInvalidate(): void {}
  synced(): void {}
  detail(): AnnouncementDetail {
    return NONE;
  }
  status(): unknown {
    return null;
  }
  async stop(): Promise<void> {}
}
