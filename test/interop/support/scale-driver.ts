// The scale case without the standalone speaker's files: src/bgp's BgpSession dials the router, and once
// Established an AdjRibOut with N /32s (198.18.0.1 upwards) is flushed into it as packed UPDATEs, exactly the
// path the speaker takes from its desired state to the wire. Used when the question is "how fast does a
// session of ours fill FRR" independent of cluster-file parsing and allocation at 100,000 Services.
//
//   ip netns exec NS node --import tsx scale-driver.ts '{"local":"10.77.0.11","peer":"10.77.0.1","localAs":65001,"peerAs":65000,"count":100000}'
//
// stdout, one JSON line each: {"established": <ms epoch>}, then {"queued": <ms epoch>, "updates": U, "bytes": B},
// then {"drained": <ms epoch>}; {"down": "..."} if the session drops. Runs until killed.
import { AdjRibOut, type Route } from '../../../src/bgp/adj-rib-out.js';
import { BgpSession } from '../../../src/bgp/session.js';
import { ipv4Number } from '../../../src/ip/index.js';

interface Cfg {
  local: string;
  peer: string;
  localAs: number;
  peerAs: number;
  count: number;
  first?: string;
  holdTime?: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Cfg;
const emit = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

const base = ipv4Number(cfg.first ?? '198.18.0.1');
const routes: Route[] = [];
for (let i = 0; i < cfg.count; i++) {
  const a = (base + i) >>> 0;
  const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/32`;
  routes.push({ prefix: text, family: 4, addr4: a, addr6: null, length: 32, localPref: 0, communities: [], largeCommunities: [] });
}
const rib = new AdjRibOut();
rib.setDesired(routes);

const session = new BgpSession({
  peerAddress: cfg.peer,
  localAddress: cfg.local,
  localAs: cfg.localAs,
  peerAs: cfg.peerAs,
  routerId: ipv4Number(cfg.local),
  holdTime: cfg.holdTime ?? 90,
});
session.on('established', (_n, ctx) => {
  emit({ established: Date.now() });
  const r = rib.flush(ctx, { localAs: cfg.localAs, peerAs: cfg.peerAs, nextHop4: ipv4Number(cfg.local), nextHop6: null });
  session.sendUpdates(r.chunks);
  emit({ queued: Date.now(), updates: r.updates, bytes: r.chunks.reduce((s, c) => s + c.length, 0) });
});
session.on('drained', () => emit({ drained: Date.now() }));
session.on('down', (reason) => {
  rib.peerReset();
  emit({ down: JSON.stringify(reason) });
});
session.start();
process.on('SIGTERM', () => {
  void session.stop({ message: 'scale-driver done' }).then(() => process.exit(0));
});
