// A recording fake of the speaker's session (src/speaker/session-factory.ts): no socket, no FSM. Tests and
// benchmarks drive it to Established and read the UPDATE bytes the speaker handed to sendUpdates.
import { EventEmitter } from 'node:events';
import { decodeMessage, INITIAL_CONTEXT, makeContext, MessageType, type UpdateMessage } from '../../src/bgp/index.js';
import type { BgpState, LastError, Negotiated } from '../../src/bgp/fsm.js';
import type { ConnectionDirection } from '../../src/bgp/collision.js';
import type { SessionDeps, SessionEvents, SessionOptions } from '../../src/bgp/session.js';
import type { Capability, CodecContext } from '../../src/bgp/types.js';
import type { SessionFactory, SpeakerSession } from '../../src/speaker/session-factory.js';

export class FakeSession extends EventEmitter<SessionEvents> implements SpeakerSession {
  state: BgpState = 'Idle';
  lastError: LastError | undefined;
  negotiated: Negotiated | undefined;
  context: CodecContext = INITIAL_CONTEXT;
  direction: ConnectionDirection = 'outbound';
  socketAddresses: { local: string; localPort: number; remote: string; remotePort: number } | undefined;
  pendingBytes = 0;
  dials = 0;
  readonly sent: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  readonly received: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  /** Every sendUpdates call, in order (each a list of buffers of whole messages). */
  readonly updates: Uint8Array[][] = [];
  capabilities: readonly Capability[];
  started = false;
  stopped: { subcode?: number; message?: string } | null = null;

  constructor(
    readonly options: SessionOptions,
    readonly deps: SessionDeps,
  ) {
    super();
    this.capabilities = options.capabilities ?? [];
  }

  start(): void {
    this.started = true;
  }

  async stop(opts: { subcode?: number; message?: string } = {}): Promise<void> {
    this.stopped = opts;
    if (this.state === 'Established') this.down();
    this.state = 'Idle';
  }

  acceptInbound(): boolean {
    return false;
  }

  sendUpdates(messages: readonly Uint8Array[]): boolean {
    if (this.state !== 'Established') return false;
    this.updates.push([...messages]);
    this.sent[MessageType.Update] = (this.sent[MessageType.Update] ?? 0) + messages.length;
    return true;
  }

  setCapabilities(capabilities: readonly Capability[]): void {
    this.capabilities = capabilities;
  }

  /** Drives the session to Established (IPv4 and IPv6 unicast, AS4 unless told otherwise). */
  establish(o: { local?: string; ctx?: CodecContext; peerAs?: number } = {}): void {
    const ctx = o.ctx ?? makeContext({ as4: true });
    const peerAs = o.peerAs ?? this.options.peerAs;
    this.state = 'Established';
    this.context = ctx;
    this.socketAddresses = { local: o.local ?? '127.0.0.1', localPort: 40000, remote: this.options.peerAddress, remotePort: this.options.peerPort ?? 179 };
    this.negotiated = {
      holdTime: this.options.holdTime,
      keepaliveTime: Math.floor(this.options.holdTime / 3),
      peerAs,
      peerBgpId: 0x0a000063,
      peerFourOctetAs: ctx.as4,
      open: { type: MessageType.Open, version: 4, myAs: peerAs, holdTime: this.options.holdTime, bgpIdentifier: 0x0a000063, capabilities: [], parameters: [] },
    };
    this.emit('state', 'OpenConfirm', 'Established');
    this.emit('established', this.negotiated, ctx);
  }

  /** The session goes down (the peer closed it). */
  down(): void {
    const reason: LastError = { event: 'TcpConnectionFails', state: 'Established' } as LastError;
    this.state = 'Idle';
    this.lastError = reason;
    this.emit('state', 'Established', 'Idle');
    this.emit('down', reason);
  }

  /** Total UPDATE bytes handed to sendUpdates. */
  get updateBytes(): number {
    let n = 0;
    for (const call of this.updates) for (const b of call) n += b.length;
    return n;
  }
}

/** A factory that records every session it makes. */
export function fakeSessionFactory(): { factory: SessionFactory; sessions: FakeSession[] } {
  const sessions: FakeSession[] = [];
  return {
    sessions,
    factory: (options, deps) => {
      const s = new FakeSession(options, deps);
      sessions.push(s);
      return s;
    },
  };
}

/** Every UPDATE handed to the session, decoded, in order (each send may pack several messages). */
export function sentUpdates(s: FakeSession): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const ctx = makeContext({ as4: true });
  for (const call of s.updates) {
    for (const buf of call) {
      for (let p = 0; p < buf.length; ) {
        const len = (buf[p + 16]! << 8) | buf[p + 17]!;
        out.push(decodeMessage(buf.subarray(p, p + len), ctx) as UpdateMessage);
        p += len;
      }
    }
  }
  return out;
}
