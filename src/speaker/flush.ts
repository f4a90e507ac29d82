// When and what the speaker sends a peer: at most one flush per event-loop turn, after Established, after the
// send queue drained, on ROUTE-REFRESH (RFC 2918 §4); End-of-RIB once per session after the initial table
// (RFC 4724 §2). The Adj-RIB-Out decides what; this file decides when, and slices for back-pressure.
import { encodeMessage, endOfRib } from '../bgp/index.js';
import type { PeerEntry, SpeakerCore } from './peer.js';

/** Largest slice of UPDATEs handed to the session at once, so its back-pressure stays fine-grained. */
const SLICE_BYTES = 64 * 1024;

export function scheduleFlush(sp: SpeakerCore, p: PeerEntry): void {
  if (p.flushScheduled) return;
  p.flushScheduled = true;
  sp.defer(() => {
    p.flushScheduled = false;
    if (sp.peers.get(p.key) !== p || p.removed) return;
    try {
      flush(sp, p);
    } catch (e) {
      // A bug while packing must not become an uncaught exception; the routes stay in the Adj-RIB-Out and the
      // next change or route refresh flushes again.
      sp.log.error('flushFailed', { peer: p.key, error: e });
    }
  });
}

/** Sends what the peer lacks (packed), then End-of-RIB once per session after the initial table. */
export function flush(sp: SpeakerCore, p: PeerEntry): void {
  const s = p.session;
  if (s.state !== 'Established' || p.policy === null || !p.initialized) {
    updateCounts(sp, p);
    return;
  }
  // Back-pressure: while earlier UPDATEs still queue in the session, changes accumulate in the
  // Adj-RIB-Out ('drained' flushes again). The session writes KEEPALIVEs ahead of its queue.
  if (s.pendingBytes > 0) return;
  const ctx = s.context;
  const r = p.rib.flush(ctx, p.policy);
  const slices: Uint8Array[] = [];
  for (const c of r.chunks) for (const sl of sliceMessages(c, SLICE_BYTES)) slices.push(sl);
  let updates = r.updates;
  if (!p.eorSent) {
    // RFC 4724 §2: End-of-RIB for every negotiated family once the initial UPDATEs are out. Sent even
    // without GR (harmless, and FRR/BIRD use it to end their update-delay early).
    for (const f of ctx.families) slices.push(encodeMessage(endOfRib(f), ctx));
    updates += ctx.families.length;
    p.eorSent = true;
  }
  if (slices.length > 0 && s.sendUpdates(slices)) {
    p.updatesSent += updates;
    sp.metrics?.addUpdatesSent(p.key, updates);
    if (r.announced + r.withdrawn > 0) {
      sp.log.debug('updatedAdvertisements', { peer: p.key, announced: r.announced, withdrawn: r.withdrawn, updates: r.updates });
    }
  }
  updateCounts(sp, p);
}

export function updateCounts(sp: SpeakerCore, p: PeerEntry): void {
  if (sp.peers.get(p.key) !== p) return;
  const up = p.session.state === 'Established';
  sp.metrics?.setPrefixCounts(p.key, up ? p.rib.sentCount : 0, p.rib.pendingCount());
}

/** Splits a buffer of whole BGP messages into slices of at most ~max octets, at message boundaries. */
export function sliceMessages(buf: Uint8Array, max: number): Uint8Array[] {
  if (buf.length <= max) return buf.length === 0 ? [] : [buf];
  const out: Uint8Array[] = [];
  let start = 0;
  let p = 0;
  while (p < buf.length) {
    const len = (buf[p + 16]! << 8) | buf[p + 17]!; // RFC 4271 §4.1 Length field
    if (len < 19) throw new RangeError(`corrupt message length ${len} at offset ${p}`);
    if (p + len - start > max && p > start) {
      out.push(buf.subarray(start, p));
      start = p;
    }
    p += len;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}
