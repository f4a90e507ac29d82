// The normalized JSON of `ingot config validate -o json` (../shared/spec/cli.md): keys in the contract's
// order, times in whole seconds, unset optionals as null, communities as "A:B" after alias resolution sorted
// by value. ingot's additions (largeCommunities, graceful restart, GTSM, BFD profiles) follow the contract keys.
import { formatCommunity, formatLargeCommunity } from './community.js';
import type { Config, NodeSelector } from './types.js';

export interface NormalizedNodeSelector {
  matchLabels: Record<string, string>;
  matchExpressions: Array<{ key: string; operator: string; values: string[] }>;
}

function selectors(list: readonly NodeSelector[]): NormalizedNodeSelector[] {
  return list.map((s) => ({
    matchLabels: { ...s.matchLabels },
    matchExpressions: s.matchExpressions.map((e) => ({ key: e.key, operator: e.operator, values: [...e.values] })),
  }));
}

/** A plain JSON-ready object; key order is part of the contract's presentation. */
export function toNormalized(config: Config): Record<string, unknown> {
  return {
    peers: config.peers.map((p) => ({
      myASN: p.myASN,
      peerASN: p.peerASN,
      peerAddress: p.peerAddress,
      peerPort: p.peerPort,
      holdTime: p.holdTime,
      keepaliveTime: p.keepaliveTime,
      routerID: p.routerID,
      sourceAddress: p.sourceAddress,
      ebgpMultihop: p.ebgpMultihop,
      password: p.password,
      bfdProfile: p.bfdProfile,
      nodeSelectors: selectors(p.nodeSelectors),
      gracefulRestart: p.gracefulRestart,
      gracefulRestartTime: p.gracefulRestartTime,
      gtsm: p.gtsm,
    })),
    pools: config.pools.map((p) => ({
      name: p.name,
      protocol: p.protocol,
      cidrs: [...p.cidrs],
      autoAssign: p.autoAssign,
      avoidBuggyIPs: p.avoidBuggyIPs,
      bgpAdvertisements: p.bgpAdvertisements.map((a) => ({
        aggregationLength: a.aggregationLength,
        aggregationLengthV6: a.aggregationLengthV6,
        localPref: a.localPref,
        communities: [...a.communities].sort((x, y) => x - y).map(formatCommunity),
        largeCommunities: a.largeCommunities.map(formatLargeCommunity),
      })),
    })),
    bfdProfiles: config.bfdProfiles.map((b) => ({
      name: b.name,
      receiveInterval: b.receiveInterval,
      transmitInterval: b.transmitInterval,
      detectMultiplier: b.detectMultiplier,
      echoInterval: b.echoInterval,
      echoMode: b.echoMode,
      passiveMode: b.passiveMode,
      minimumTtl: b.minimumTtl,
    })),
  };
}

/** Pretty-printed (2 spaces) normalized JSON with a trailing newline, as the CLI prints it. */
export function toNormalizedJSON(config: Config): string {
  return `${JSON.stringify(toNormalized(config), null, 2)}\n`;
}
