// BGP connection collision detection (RFC 4271 §6.8, RFC 6286 §2.3) as a pure decision.
//
// When both speakers dial at once there are two TCP connections for one peer, each with its own FSM. When an
// OPEN arrives on one of them (the "incoming" connection here), the driver asks resolveCollision about the
// other ("existing") one. The convention: keep only the connection initiated by the speaker with the higher
// BGP Identifier. The loser's FSM gets OpenCollisionDump (event 23), which sends Cease / Connection Collision
// Resolution (RFC 4486 subcode 7) and closes it.
import { CeaseSubcode, NotificationCode } from './constants.js';
import type { BgpState, NotificationSpec } from './fsm.js';

/** Who opened the TCP connection: we dialled (outbound) or the peer did and we accepted (inbound). */
export type ConnectionDirection = 'outbound' | 'inbound';

export interface CollisionInput {
  /** Our BGP Identifier (unsigned 32-bit). */
  readonly localBgpId: number;
  /** The BGP Identifier in the OPEN just received on the incoming connection. */
  readonly remoteBgpId: number;
  /** AS numbers, for the RFC 6286 §2.3 tie-break when the identifiers are equal (allowed for eBGP). */
  readonly localAs: number;
  readonly remoteAs: number;
  /** The other connection to the same peer. */
  readonly existing: {
    readonly direction: ConnectionDirection;
    readonly state: BgpState;
    /** The identifier from the OPEN received on it, when it got one (OpenConfirm, Established). */
    readonly remoteBgpId?: number;
  };
  /** The connection on which the OPEN was just received. */
  readonly incoming: { readonly direction: ConnectionDirection };
}

export type CollisionDecision =
  | { readonly collision: false; readonly why: string }
  | {
      readonly collision: true;
      /** Which connection to close (feed it OpenCollisionDump); the other one carries on. */
      readonly close: 'existing' | 'incoming';
      readonly notification: NotificationSpec;
      readonly why: string;
    };

export const COLLISION_NOTIFICATION: NotificationSpec = Object.freeze({
  code: NotificationCode.Cease,
  subcode: CeaseSubcode.ConnectionCollisionResolution,
  data: new Uint8Array(0),
});

/** Compares two BGP Identifiers as unsigned 32-bit integers (§6.8 step 1: "host byte order … unsigned"). */
export function compareBgpIdentifiers(a: number, b: number): -1 | 0 | 1 {
  const x = a >>> 0;
  const y = b >>> 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function resolveCollision(input: CollisionInput): CollisionDecision {
  const { existing, incoming } = input;
  const remoteId = input.remoteBgpId >>> 0;
  const close = (which: 'existing' | 'incoming', why: string): CollisionDecision => ({
    collision: true,
    close: which,
    notification: COLLISION_NOTIFICATION,
    why,
  });

  // §6.8: collisions cannot be detected with connections in Idle, Connect or Active: they have exchanged no
  // OPEN yet. (The driver simply gives up a dial still in progress when the peer's connection wins the race.)
  if (existing.state === 'Idle' || existing.state === 'Connect' || existing.state === 'Active')
    return { collision: false, why: `existing connection is in ${existing.state}` };

  // §6.8: it is a collision only if the existing connection leads to the speaker that sent this OPEN. For
  // OpenSent we do not know its identifier yet, but we know the peer by configuration (same address), which
  // §6.8 allows ("by means outside of the protocol").
  if (existing.remoteBgpId !== undefined && existing.remoteBgpId >>> 0 !== remoteId)
    return { collision: false, why: 'existing connection leads to a different BGP Identifier' };

  // §6.8 with CollisionDetectEstablishedState FALSE (§8.1.1): an Established session always wins.
  if (existing.state === 'Established') return close('incoming', 'existing connection is Established');

  let order = compareBgpIdentifiers(input.localBgpId, remoteId);
  let basis = 'BGP Identifier';
  if (order === 0) {
    // RFC 6286 §2.3: equal identifiers (possible between ASes) — the speaker with the larger AS wins.
    order = input.localAs > input.remoteAs ? 1 : input.localAs < input.remoteAs ? -1 : 0;
    basis = 'AS number (equal BGP Identifiers, RFC 6286 §2.3)';
    if (order === 0) return close('incoming', 'equal BGP Identifiers and AS numbers: keep the existing connection');
  }
  const localWins = order > 0;

  if (existing.direction !== incoming.direction) {
    // The convention proper: keep the connection initiated by the speaker with the higher value.
    const keep: ConnectionDirection = localWins ? 'outbound' : 'inbound';
    const which = existing.direction === keep ? 'incoming' : 'existing';
    return close(which, `${localWins ? 'local' : 'remote'} ${basis} is higher: keep the ${keep} connection`);
  }
  // Both connections have the same direction (not a collision in the §6.8 address sense, e.g. a peer that
  // reconnected while its old connection lingers): apply §6.8 steps 2–3 literally.
  return localWins
    ? close('incoming', `local ${basis} is higher: keep the existing connection`)
    : close('existing', `remote ${basis} is higher: keep the new connection`);
}
