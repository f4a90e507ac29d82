// The codec's one error type. It carries exactly what the session needs to act on a bad message:
// the NOTIFICATION code/subcode/data of RFC 4271 §6 and the RFC 7606 §2 error-handling approach.
// Decoders throw nothing else (see README.md, "Errors").
import {
  MAX_MESSAGE_LENGTH,
  MIN_NOTIFICATION_LENGTH,
  MessageHeaderSubcode,
  NotificationCode,
  OpenSubcode,
  RouteRefreshSubcode,
  UpdateSubcode,
  notificationName,
} from './constants.js';
import type { UpdateMessage } from './types.js';

/**
 * RFC 7606 §2 approaches, weakest first:
 * - `attribute-discard`: drop the offending attribute, keep processing the UPDATE;
 * - `treat-as-withdraw`: treat every prefix in the UPDATE (NLRI, MP_REACH and withdrawn) as withdrawn;
 * - `session-reset`: send the NOTIFICATION and close the session (RFC 4271 §6 behaviour).
 */
export type ErrorAction = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

const SEVERITY: Record<ErrorAction, number> = {
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'session-reset': 3,
};

/** True when `a` is a stronger approach than `b` (RFC 7606 §3: the most severe approach wins). */
export function isStronger(a: ErrorAction, b: ErrorAction): boolean {
  return SEVERITY[a] > SEVERITY[b];
}

const EMPTY = new Uint8Array(0);
/** Data octets that fit a NOTIFICATION of the base maximum length (RFC 4271 §4.1: 4096 − 21). */
const MAX_NOTIFICATION_DATA = MAX_MESSAGE_LENGTH - MIN_NOTIFICATION_LENGTH;

export class BgpError extends Error {
  override readonly name = 'BgpError';
  /** NOTIFICATION error code (RFC 4271 §4.5). */
  readonly code: NotificationCode;
  /** NOTIFICATION error subcode. */
  readonly subcode: number;
  /** NOTIFICATION data field, exactly as RFC 4271 §6 prescribes for this error. */
  readonly data: Uint8Array;
  /** RFC 7606 approach. Errors outside UPDATE processing are always `session-reset`. */
  readonly action: ErrorAction;
  /**
   * For `treat-as-withdraw` errors thrown by `decodeMessage`: the UPDATE as far as it could be decoded,
   * with its withdrawn routes, NLRI and MP_REACH/MP_UNREACH prefixes intact. Every prefix it names must be
   * withdrawn (`prefixesToWithdraw()` in update.ts lists them). Undefined for other errors.
   */
  update: UpdateMessage | undefined;

  constructor(code: NotificationCode, subcode: number, data: Uint8Array, action: ErrorAction, message: string) {
    super(`${notificationName(code, subcode)}: ${message}`);
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.action = action;
    this.update = undefined;
  }

  // ---- named constructors, one per RFC 4271 §6 case -------------------------------------------------

  /** RFC 4271 §6.1: marker not all ones. Data is empty. */
  static connectionNotSynchronized(): BgpError {
    return new BgpError(
      NotificationCode.MessageHeaderError,
      MessageHeaderSubcode.ConnectionNotSynchronized,
      EMPTY,
      'session-reset',
      'marker is not all ones',
    );
  }

  /** RFC 4271 §6.1: length field out of range or wrong for the type. Data is the 2-octet length field. */
  static badMessageLength(length: number, why = 'bad length'): BgpError {
    return new BgpError(
      NotificationCode.MessageHeaderError,
      MessageHeaderSubcode.BadMessageLength,
      new Uint8Array([(length >>> 8) & 0xff, length & 0xff]),
      'session-reset',
      `${why} (${length})`,
    );
  }

  /** RFC 4271 §6.1: type not recognised. Data is the type octet. */
  static badMessageType(type: number): BgpError {
    return new BgpError(
      NotificationCode.MessageHeaderError,
      MessageHeaderSubcode.BadMessageType,
      new Uint8Array([type & 0xff]),
      'session-reset',
      `unknown message type ${type}`,
    );
  }

  /** RFC 4271 §6.2 OPEN errors. Data depends on the subcode (e.g. the supported version for subcode 1). */
  static open(subcode: OpenSubcode, message: string, data: Uint8Array = EMPTY): BgpError {
    return new BgpError(NotificationCode.OpenMessageError, subcode, data, 'session-reset', message);
  }

  /** RFC 4271 §6.3 / RFC 7606 UPDATE errors, with the approach the RFC assigns to this case. */
  static update(subcode: UpdateSubcode, action: ErrorAction, message: string, data: Uint8Array = EMPTY): BgpError {
    return new BgpError(NotificationCode.UpdateMessageError, subcode, data, action, message);
  }

  /**
   * RFC 7313 §5: ROUTE-REFRESH (BoRR/EoRR) with a bad length. Data is the complete message, cut to what a
   * 4096-octet NOTIFICATION can carry (4075 octets): a message near the maximum length would otherwise make
   * a NOTIFICATION that cannot be sent. The encoder cuts any data to the negotiated maximum as well.
   */
  static routeRefreshLength(message: Uint8Array): BgpError {
    return new BgpError(
      NotificationCode.RouteRefreshMessageError,
      RouteRefreshSubcode.InvalidMessageLength,
      message.length > MAX_NOTIFICATION_DATA ? message.subarray(0, MAX_NOTIFICATION_DATA) : message,
      'session-reset',
      `ROUTE-REFRESH length ${message.length} is not 23`,
    );
  }
}
