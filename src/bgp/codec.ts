// Message level: the 19-octet header (RFC 4271 §4.1) and dispatch on the type octet. decodeMessage takes
// exactly one message (as the Framer delivers them); encodeMessageInto writes one into a caller's buffer.
import {
  HEADER_LENGTH,
  KEEPALIVE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MIN_NOTIFICATION_LENGTH,
  MIN_OPEN_LENGTH,
  MIN_UPDATE_LENGTH,
  MessageType,
  ROUTE_REFRESH_LENGTH,
  RouteRefreshSubtype,
} from './constants.js';
import { BgpError } from './errors.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import type {
  BgpMessage,
  CodecContext,
  KeepaliveMessage,
  NotificationMessage,
  RouteRefreshMessage,
} from './types.js';

/** The one KEEPALIVE object (it has no fields); decodeMessage returns it for every KEEPALIVE. */
export const KEEPALIVE: KeepaliveMessage = Object.freeze({ type: MessageType.Keepalive });

/**
 * Decodes one whole message (`bytes` starts at the marker and ends at the message's end). Throws only
 * BgpError: `session-reset` for anything fatal, `treat-as-withdraw` with `err.update` for UPDATEs whose
 * routes must be withdrawn (update.ts). The result may reference `bytes` (prefix lists, opaque values): do
 * not reuse the buffer while the message is in use.
 */
export function decodeMessage(bytes: Uint8Array, ctx: CodecContext): BgpMessage {
  const b = bytes;
  const end = b.length;
  if (end < HEADER_LENGTH) throw BgpError.badMessageLength(end, 'message shorter than the header');
  // RFC 4271 §6.1: the marker must be all ones. Unrolled: on a KEEPALIVE this check is most of the work.
  if (
    b[0] !== 255 || b[1] !== 255 || b[2] !== 255 || b[3] !== 255 || b[4] !== 255 || b[5] !== 255 || b[6] !== 255 || b[7] !== 255 ||
    b[8] !== 255 || b[9] !== 255 || b[10] !== 255 || b[11] !== 255 || b[12] !== 255 || b[13] !== 255 || b[14] !== 255 || b[15] !== 255
  ) {
    throw BgpError.connectionNotSynchronized();
  }
  const length = (b[16]! << 8) | b[17]!;
  // Small enough to be inlined into callers; everything but KEEPALIVE continues in decodeBody.
  if (length === KEEPALIVE_LENGTH && end === KEEPALIVE_LENGTH && b[18] === 4) return KEEPALIVE;
  return decodeBody(b, length, ctx);
}

function decodeBody(b: Uint8Array, length: number, ctx: CodecContext): BgpMessage {
  const end = b.length;
  if (length !== end) throw BgpError.badMessageLength(length, `length field disagrees with the ${end} octets given`);
  const type = b[18]!;
  if (length > ctx.maxMessageLength) throw BgpError.badMessageLength(length, 'above the negotiated maximum');
  switch (type) {
    case 4: // MessageType.Keepalive
      throw BgpError.badMessageLength(length, 'KEEPALIVE is 19 octets');
    case 2: // MessageType.Update
      if (length < MIN_UPDATE_LENGTH) throw BgpError.badMessageLength(length, 'UPDATE shorter than 23 octets');
      return decodeUpdate(b, ctx);
    case 1: // MessageType.Open
      // RFC 8654 §5: OPEN is never extended.
      if (length < MIN_OPEN_LENGTH || length > MAX_MESSAGE_LENGTH) throw BgpError.badMessageLength(length, 'OPEN length');
      return decodeOpen(b);
    case 3: // MessageType.Notification
      if (length < MIN_NOTIFICATION_LENGTH) throw BgpError.badMessageLength(length, 'NOTIFICATION shorter than 21 octets');
      return { type: MessageType.Notification, code: b[19]!, subcode: b[20]!, data: b.subarray(21, end) };
    case 5: { // MessageType.RouteRefresh
      if (length !== ROUTE_REFRESH_LENGTH) {
        // RFC 7313 §5 for BoRR/EoRR (data: the whole message); RFC 4271 §6.1 otherwise.
        const subtype = length > 21 ? b[21]! : 0;
        if (subtype === RouteRefreshSubtype.BeginningOfRouteRefresh || subtype === RouteRefreshSubtype.EndOfRouteRefresh) {
          throw BgpError.routeRefreshLength(b.slice());
        }
        throw BgpError.badMessageLength(length, 'ROUTE-REFRESH is 23 octets');
      }
      return { type: MessageType.RouteRefresh, afi: (b[19]! << 8) | b[20]!, subtype: b[21]!, safi: b[22]! };
    }
    default:
      throw BgpError.badMessageType(type);
  }
}

/**
 * Writes one message at out[off] and returns the offset after it. Throws RangeError when the message is
 * longer than the context allows (4096 for OPEN and KEEPALIVE always) or does not fit in `out`.
 */
export function encodeMessageInto(msg: BgpMessage, ctx: CodecContext, out: Uint8Array, off: number): number {
  // KEEPALIVE inline (the function stays small enough to be inlined); everything else in encodeBody. The
  // identity test spares the shared KEEPALIVE a type load on a call site that sees every message shape.
  if (msg !== KEEPALIVE && msg.type !== 4) return encodeBody(msg, ctx, out, off);
  if (off + KEEPALIVE_LENGTH > out.length) throw new RangeError('message of 19 octets does not fit the buffer');
  writeHeader(out, off, KEEPALIVE_LENGTH, 4);
  return off + KEEPALIVE_LENGTH;
}

function writeHeader(out: Uint8Array, off: number, length: number, type: number): void {
  // Marker by hand: a native fill costs more than sixteen stores (perf-anchors §2).
  out[off] = 0xff; out[off + 1] = 0xff; out[off + 2] = 0xff; out[off + 3] = 0xff;
  out[off + 4] = 0xff; out[off + 5] = 0xff; out[off + 6] = 0xff; out[off + 7] = 0xff;
  out[off + 8] = 0xff; out[off + 9] = 0xff; out[off + 10] = 0xff; out[off + 11] = 0xff;
  out[off + 12] = 0xff; out[off + 13] = 0xff; out[off + 14] = 0xff; out[off + 15] = 0xff;
  out[off + 16] = length >>> 8;
  out[off + 17] = length & 0xff;
  out[off + 18] = type;
}

function encodeBody(msg: BgpMessage, ctx: CodecContext, out: Uint8Array, off: number): number {
  let end: number;
  let max = ctx.maxMessageLength;
  switch (msg.type) {
    case 4: // MessageType.Keepalive
      end = off + KEEPALIVE_LENGTH;
      break;
    case 2: // MessageType.Update
      end = encodeUpdate(msg, ctx, out, off);
      break;
    case 1: // MessageType.Open
      end = encodeOpen(msg, out, off);
      max = MAX_MESSAGE_LENGTH;
      break;
    case 3: { // MessageType.Notification
      const d = msg.data;
      out[off + 19] = msg.code;
      out[off + 20] = msg.subcode;
      for (let i = 0; i < d.length; i++) out[off + 21 + i] = d[i]!;
      end = off + 21 + d.length;
      break;
    }
    case 5: // MessageType.RouteRefresh
      out[off + 19] = msg.afi >>> 8;
      out[off + 20] = msg.afi & 0xff;
      out[off + 21] = msg.subtype;
      out[off + 22] = msg.safi;
      end = off + ROUTE_REFRESH_LENGTH;
      break;
    default:
      throw new RangeError(`unknown message type ${(msg as { type: unknown }).type}`);
  }
  const length = end - off;
  // Typed-array writes past the end are silently dropped, so one check afterwards is enough.
  if (end > out.length) throw new RangeError(`message of ${length} octets does not fit the buffer`);
  if (length > max) throw new RangeError(`message of ${length} octets exceeds the maximum of ${max}`);
  writeHeader(out, off, length, msg.type);
  return end;
}

// Twice the largest legal message: anything that does not fit is too long anyway (RangeError either way).
const scratch = new Uint8Array(0x20000);

/** Encodes one message into a new Uint8Array of exactly its length. Throws RangeError on invalid input. */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Uint8Array {
  return scratch.slice(0, encodeMessageInto(msg, ctx, scratch, 0));
}

/** A ROUTE-REFRESH message. */
export function routeRefresh(afi: number, safi: number, subtype: RouteRefreshSubtype = RouteRefreshSubtype.Normal): RouteRefreshMessage {
  return { type: MessageType.RouteRefresh, afi, safi, subtype };
}
