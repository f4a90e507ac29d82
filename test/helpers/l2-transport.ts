// An in-memory L2Transport for tests of the Layer 2 engine (and of anything built on it): records every
// socket opened, every frame sent and every multicast group joined, and lets the test deliver frames or make
// opens and sends fail.
import type { L2Protocol, L2Socket, L2Transport, ReceivedFrame } from '../../src/l2/transport.js';
import { PacketType } from '../../src/l2/transport.js';
import { formatMac } from '../../src/l2/frames.js';

export interface FakeSocket {
  ifindex: number;
  protocol: L2Protocol;
  sent: Buffer[];
  groups: Set<string>;
  closed: boolean;
  onFrame: (f: ReceivedFrame) => void;
  onError: (err: Error) => void;
}

export class FakeL2Transport implements L2Transport {
  readonly sockets: FakeSocket[] = [];
  /** When set, open() throws it (e.g. the CAP_NET_RAW error). */
  openError: Error | null = null;
  /** When set, send() throws it. */
  sendError: Error | null = null;
  /** IPv6 groups joined at the IP level, as "ifname group". */
  readonly ipv6Groups = new Set<string>();

  joinIpv6Group(ifname: string, group: string): void {
    this.ipv6Groups.add(`${ifname} ${group}`);
  }

  leaveIpv6Group(ifname: string, group: string): void {
    this.ipv6Groups.delete(`${ifname} ${group}`);
  }

  open(ifindex: number, protocol: L2Protocol, onFrame: (f: ReceivedFrame) => void, onError: (err: Error) => void): L2Socket {
    if (this.openError) throw this.openError;
    const s: FakeSocket = { ifindex, protocol, sent: [], groups: new Set(), closed: false, onFrame, onError };
    this.sockets.push(s);
    return {
      send: (frame) => {
        if (s.closed) throw Object.assign(new Error('send EBADF'), { code: 'EBADF' });
        if (this.sendError) throw this.sendError;
        s.sent.push(Buffer.from(frame));
      },
      addMembership: (mac) => void s.groups.add(formatMac(mac)),
      dropMembership: (mac) => void s.groups.delete(formatMac(mac)),
      close: () => {
        s.closed = true;
      },
    };
  }

  /** Open sockets (not closed), optionally of one interface / protocol. */
  open_(ifindex?: number, protocol?: L2Protocol): FakeSocket[] {
    return this.sockets.filter((s) => !s.closed && (ifindex === undefined || s.ifindex === ifindex) && (protocol === undefined || s.protocol === protocol));
  }

  /** Delivers a frame to every open socket of that interface and protocol; returns how many got it. */
  deliver(ifindex: number, protocol: L2Protocol, frame: Buffer, pkttype: number = PacketType.Broadcast): number {
    const targets = this.open_(ifindex, protocol);
    for (const s of targets) s.onFrame({ frame, ifindex, pkttype, srcMac: formatMac(frame, 6) });
    return targets.length;
  }

  /** Every frame sent on any socket, in order of sockets then sends. */
  allSent(): Buffer[] {
    return this.sockets.flatMap((s) => s.sent);
  }

  clearSent(): void {
    for (const s of this.sockets) s.sent.length = 0;
  }
}
