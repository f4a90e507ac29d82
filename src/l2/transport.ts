// The raw-frame edge of Layer 2 mode: AF_PACKET sockets from the project's addon (native/src/packet.cc),
// one per interface and protocol, each with a classic BPF program so the kernel hands Node only candidate
// frames (ARP; ICMPv6 Neighbor Solicitations and Advertisements) instead of every packet on the link.
// `L2Transport` is the seam: the engine talks to it, tests pass a fake (test/helpers/l2-transport.ts).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { endianness } from 'node:os';

import { loadNative, type PacketAddon } from '../net/native.js';
import { EtherType, Icmpv6Type, IPPROTO_ICMPV6, formatMac } from './frames.js';

/** AF_PACKET pkttype of a received frame (linux/if_packet.h). */
export const PacketType = { Host: 0, Broadcast: 1, Multicast: 2, OtherHost: 3, Outgoing: 4 } as const;

export interface ReceivedFrame {
  /** The whole Ethernet frame, header included. */
  frame: Buffer;
  ifindex: number;
  /** `PacketType`: OtherHost means the NIC is promiscuous and the frame was for another station. */
  pkttype: number;
  srcMac: string;
}

/** What a Layer 2 socket carries: ARP, or IPv6 Neighbor Discovery. */
export type L2Protocol = 'arp' | 'ndp';

export interface L2Socket {
  /** Sends one whole Ethernet frame; throws an errno error (ENETDOWN, ENOBUFS, ...) when the kernel refuses. */
  send(frame: Buffer): void;
  /** Receive frames sent to this multicast MAC (the NIC filters them out otherwise). */
  addMembership(mac: Uint8Array): void;
  dropMembership(mac: Uint8Array): void;
  close(): void;
}

export interface L2Transport {
  /**
   * Opens a socket on the interface `ifindex` for `protocol`. `onFrame` and `onError` are called from the event
   * loop; whatever they throw is caught here and passed to `onError` (never to the addon). Throws when the
   * socket cannot be made; a missing CAP_NET_RAW gives a message that says so.
   */
  open(ifindex: number, protocol: L2Protocol, onFrame: (f: ReceivedFrame) => void, onError: (err: Error) => void): L2Socket;
  /**
   * IP-level membership of an IPv6 group (a VIP's solicited-node group) on an interface. The kernel then sends
   * MLD reports (RFC 3810) for it, so a switch doing MLD snooping forwards the group's NSs to this port; a
   * PACKET_ADD_MEMBERSHIP alone only opens the NIC's filter and reports nothing. Throws on failure.
   */
  joinIpv6Group(ifname: string, group: string): void;
  leaveIpv6Group(ifname: string, group: string): void;
}

// ---------------------------------------------------------------------------------------------------------
// Classic BPF (linux/filter.h). Offsets are into the frame as the socket sees it: the kernel has already
// removed any VLAN tag it accelerated, so the EtherType is at 12.

/** One instruction: [code, jt, jf, k]. */
export type BpfInsn = readonly [code: number, jt: number, jf: number, k: number];

const LDH_ABS = 0x28; // BPF_LD | BPF_H | BPF_ABS
const LDB_ABS = 0x30; // BPF_LD | BPF_B | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
/** Octets to keep of an accepted frame: every frame we care about is far smaller. */
const SNAP = 0xffff;

/** ARP frames. The ARP header itself is checked in TypeScript, so a malformed one is counted, not lost. */
export const ARP_FILTER: readonly BpfInsn[] = [
  [LDH_ABS, 0, 0, 12],
  [JEQ_K, 0, 1, EtherType.Arp],
  [RET_K, 0, 0, SNAP],
  [RET_K, 0, 0, 0],
];

/**
 * IPv6 packets whose next header is ICMPv6 and whose ICMPv6 type is NS or NA. Packets with extension headers
 * before ICMPv6 are not matched (ND never needs them; RFC 4861 messages are sent without).
 */
export const NDP_FILTER: readonly BpfInsn[] = [
  [LDH_ABS, 0, 0, 12],
  [JEQ_K, 0, 6, EtherType.Ipv6],
  [LDB_ABS, 0, 0, 14 + 6], // IPv6 next header
  [JEQ_K, 0, 4, IPPROTO_ICMPV6],
  [LDB_ABS, 0, 0, 14 + 40], // ICMPv6 type
  [JEQ_K, 1, 0, Icmpv6Type.NeighborSolicitation],
  [JEQ_K, 0, 1, Icmpv6Type.NeighborAdvertisement],
  [RET_K, 0, 0, SNAP],
  [RET_K, 0, 0, 0],
];

/** struct sock_filter[] in host byte order, as SO_ATTACH_FILTER takes it. */
export function bpfProgram(insns: readonly BpfInsn[]): Buffer {
  const le = endianness() === 'LE';
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    if (le) b.writeUInt16LE(code, i * 8);
    else b.writeUInt16BE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    if (le) b.writeUInt32LE(k >>> 0, i * 8 + 4);
    else b.writeUInt32BE(k >>> 0, i * 8 + 4);
  });
  return b;
}

/**
 * Runs a program of the four instructions above over a frame, as the kernel would: the octets to keep (0 =
 * drop). A load past the end drops the frame, as in the kernel. For tests and for checking the programs.
 */
export function runBpf(insns: readonly BpfInsn[], frame: Uint8Array): number {
  let a = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const [code, jt, jf, k] = insns[pc]!;
    switch (code) {
      case LDH_ABS:
        if (k + 2 > frame.length) return 0;
        a = (frame[k]! << 8) | frame[k + 1]!;
        break;
      case LDB_ABS:
        if (k + 1 > frame.length) return 0;
        a = frame[k]!;
        break;
      case JEQ_K:
        pc += a === k ? jt : jf;
        break;
      case RET_K:
        return Math.min(k, frame.length);
      default:
        throw new Error(`runBpf: unsupported opcode 0x${code.toString(16)}`);
    }
  }
  return 0;
}

const PROTOCOLS: Record<L2Protocol, { etherType: number; filter: readonly BpfInsn[] }> = {
  arp: { etherType: EtherType.Arp, filter: ARP_FILTER },
  ndp: { etherType: EtherType.Ipv6, filter: NDP_FILTER },
};

/** Rewords a socket error: EPERM / EACCES from socket(AF_PACKET) means the capability is missing. */
export function explainL2Error(err: unknown, what: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EPERM' || e?.code === 'EACCES') {
    return Object.assign(
      new Error(
        `Layer 2 needs CAP_NET_RAW: ${e.message} (${what}). Run the speaker as root or grant the capability ` +
          '(Kubernetes: securityContext.capabilities.add: ["NET_RAW"]; systemd: AmbientCapabilities=CAP_NET_RAW)',
        { cause: err },
      ),
      { code: e.code },
    );
  }
  if (e instanceof Error) return Object.assign(new Error(`${what}: ${e.message}`, { cause: err }), { code: e.code });
  return new Error(`${what}: ${String(err)}`);
}

/** The real transport over the addon. */
export function nativeTransport(addon: PacketAddon = loadNative()): L2Transport {
  // One unbound UDP socket carries every IPv6 group membership (the kernel keeps them per socket); unref'd so
  // it never holds a process open. Made on first use.
  let groups: UdpSocket | null = null;
  const groupSocket = (): UdpSocket => {
    if (groups === null) {
      groups = createSocket({ type: 'udp6' });
      groups.on('error', () => {
        // nothing is ever sent or received on it; an asynchronous error has no one to tell
      });
      groups.unref();
    }
    return groups;
  };
  return {
    joinIpv6Group(ifname, group) {
      try {
        groupSocket().addMembership(group, `::%${ifname}`);
      } catch (err) {
        throw explainL2Error(err, `joining ${group} on ${ifname}`);
      }
    },
    leaveIpv6Group(ifname, group) {
      try {
        groupSocket().dropMembership(group, `::%${ifname}`);
      } catch (err) {
        throw explainL2Error(err, `leaving ${group} on ${ifname}`);
      }
    },
    open(ifindex, protocol, onFrame, onError) {
      const p = PROTOCOLS[protocol];
      const report = (err: unknown): void => {
        try {
          onError(err instanceof Error ? err : new Error(String(err)));
        } catch {
          // an error handler that throws has nowhere left to report to; the socket keeps running
        }
      };
      let sock;
      try {
        sock = new addon.PacketSocket(
          ifindex,
          p.etherType,
          bpfProgram(p.filter),
          (frame, idx, pkttype, src) => {
            try {
              onFrame({ frame, ifindex: idx, pkttype, srcMac: formatMac(src) });
            } catch (err) {
              report(err);
            }
          },
          (err) => report(explainL2Error(err, `receiving ${protocol} on ifindex ${ifindex}`)),
        );
      } catch (err) {
        throw explainL2Error(err, `opening an AF_PACKET socket for ${protocol} on ifindex ${ifindex}`);
      }
      const s = sock;
      return {
        send: (frame) => void s.send(frame),
        addMembership: (mac) => s.addMembership(Buffer.from(mac)),
        dropMembership: (mac) => s.dropMembership(Buffer.from(mac)),
        close: () => s.close(),
      };
    },
  };
}
