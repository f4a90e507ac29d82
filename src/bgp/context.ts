// The negotiated CodecContext (README.md, "Data flow"): what the two OPENs agreed on that changes the wire
// format. Built once per session, passed to every decode/encode.
import { Afi, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, Safi } from './constants.js';
import type { CodecContext, Family, OpenMessage } from './types.js';

const IPV4_UNICAST: Family = Object.freeze({ afi: Afi.Ipv4, safi: Safi.Unicast });

/**
 * The context before OPENs are exchanged (and for decoding the OPENs themselves): 2-octet ASNs, 4096-octet
 * messages, IPv4 unicast.
 */
export const INITIAL_CONTEXT: CodecContext = Object.freeze({
  as4: false,
  extendedMessage: false,
  maxMessageLength: MAX_MESSAGE_LENGTH,
  families: Object.freeze([IPV4_UNICAST]),
});

/** Families an OPEN advertises; none advertised means IPv4 unicast only (RFC 4760 §8). */
export function advertisedFamilies(open: OpenMessage): Family[] {
  const out: Family[] = [];
  for (const c of open.capabilities) {
    if (c.kind === 'multiprotocol' && !out.some((f) => f.afi === c.afi && f.safi === c.safi)) out.push({ afi: c.afi, safi: c.safi });
  }
  return out.length === 0 ? [IPV4_UNICAST] : out;
}

function has(open: OpenMessage, kind: string): boolean {
  return open.capabilities.some((c) => c.kind === kind);
}

/**
 * The context both sides agreed on: 4-octet ASNs when both sent the capability (RFC 6793 §3), extended
 * messages likewise (RFC 8654 §3), and the families both advertised (RFC 4760 §6), in the local order.
 * ADD-PATH is never enabled: the codec does not encode path identifiers (README.md, "Deviations").
 */
export function negotiateContext(localOpen: OpenMessage, remoteOpen: OpenMessage): CodecContext {
  const extendedMessage = has(localOpen, 'extended-message') && has(remoteOpen, 'extended-message');
  const remote = advertisedFamilies(remoteOpen);
  const families = advertisedFamilies(localOpen).filter((f) => remote.some((r) => r.afi === f.afi && r.safi === f.safi));
  return {
    as4: has(localOpen, 'four-octet-as') && has(remoteOpen, 'four-octet-as'),
    extendedMessage,
    maxMessageLength: extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    families,
  };
}

/** A context from explicit settings (tests, tools). */
export function makeContext(opts: { as4?: boolean; extendedMessage?: boolean; families?: readonly Family[] } = {}): CodecContext {
  const extendedMessage = opts.extendedMessage ?? false;
  return {
    as4: opts.as4 ?? false,
    extendedMessage,
    maxMessageLength: extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    families: opts.families ?? [IPV4_UNICAST, { afi: Afi.Ipv6, safi: Safi.Unicast }],
  };
}
