// The seam between the speaker and its sessions: a factory, so speaker tests can hand in a recording fake
// (test/helpers/fake-session.ts) instead of a loopback TCP peer, and benchmarks can measure the path from a
// Service change to the UPDATE bytes handed to the session without sockets.
import type { EventEmitter } from 'node:events';
import { BgpSession, type SessionDeps, type SessionEvents, type SessionOptions } from '../bgp/session.js';

/** What the speaker uses of a BgpSession. */
export type SpeakerSession = Pick<
  BgpSession,
  | 'state'
  | 'lastError'
  | 'negotiated'
  | 'context'
  | 'direction'
  | 'socketAddresses'
  | 'pendingBytes'
  | 'dials'
  | 'sent'
  | 'received'
  | 'start'
  | 'stop'
  | 'acceptInbound'
  | 'sendUpdates'
  | 'setCapabilities'
> & { on: EventEmitter<SessionEvents>['on'] };

export type SessionFactory = (options: SessionOptions, deps: SessionDeps) => SpeakerSession;

/** The real one: a BgpSession (socket driver, src/bgp/session.ts). */
export const bgpSessionFactory: SessionFactory = (options, deps) => new BgpSession(options, deps);
