// Stream framing (RFC 4271 §4.1): TCP delivers bytes in arbitrary chunks; the Framer hands out whole
// messages. Each message is checked for the marker and a length within [19, maximum] as soon as its header
// is complete, so a desynchronised stream fails at the first bad header instead of waiting for 64 KiB.
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { BgpError } from './errors.js';
import type { CodecContext } from './types.js';

export type MessageSink = (message: Uint8Array) => void;

/**
 * Chunks in, whole message slices out. A message that lies inside one chunk is delivered as a view of that
 * chunk (no copy: Node never reuses socket chunks); one that spans chunks is assembled in a new buffer of
 * exactly its size. After a BgpError the stream is unusable (the session closes); every later push throws
 * the same error.
 */
export class Framer {
  private maxLength: number;
  /** Header bytes of a message that started in an earlier chunk (valid while partial !== null or hdrLen > 0). */
  private readonly hdr = new Uint8Array(HEADER_LENGTH);
  private hdrLen = 0;
  /** Message being assembled across chunks, and how much of it has arrived. */
  private partial: Uint8Array | null = null;
  private partialLen = 0;
  private failed: BgpError | null = null;

  constructor(maxMessageLength: number = MAX_MESSAGE_LENGTH) {
    this.maxLength = maxMessageLength;
  }

  /** Applies a negotiated context (4096 → 65535 after RFC 8654 extended messages). */
  setContext(ctx: CodecContext): void {
    this.maxLength = ctx.maxMessageLength;
  }

  /** Octets held for an incomplete message. */
  get buffered(): number {
    return this.partial !== null ? this.partialLen : this.hdrLen;
  }

  /**
   * Feeds one chunk; calls `onMessage` for every message it completes, in order. Throws BgpError
   * (ConnectionNotSynchronized, or BadMessageLength with the length field as data) at a bad header; the
   * messages before it have been delivered.
   */
  push(chunk: Uint8Array, onMessage: MessageSink): void {
    if (this.failed !== null) throw this.failed;
    try {
      this.pushChunk(chunk, onMessage);
    } catch (e) {
      if (e instanceof BgpError) this.failed = e;
      throw e;
    }
  }

  private pushChunk(c: Uint8Array, onMessage: MessageSink): void {
    const end = c.length;
    let p = 0;
    // 1. Finish the message carried over from earlier chunks.
    if (this.hdrLen > 0 || this.partial !== null) {
      if (this.partial === null) {
        const hdr = this.hdr;
        while (this.hdrLen < HEADER_LENGTH && p < end) hdr[this.hdrLen++] = c[p++]!;
        if (this.hdrLen < HEADER_LENGTH) return;
        const len = this.checkHeader(hdr, 0);
        const m = new Uint8Array(len);
        for (let i = 0; i < HEADER_LENGTH; i++) m[i] = hdr[i]!;
        this.partial = m;
        this.partialLen = HEADER_LENGTH;
        this.hdrLen = 0;
      }
      const m = this.partial;
      const need = m.length - this.partialLen;
      const take = need < end - p ? need : end - p;
      if (take < 32) for (let i = 0; i < take; i++) m[this.partialLen + i] = c[p + i]!;
      else m.set(c.subarray(p, p + take), this.partialLen);
      this.partialLen += take;
      p += take;
      if (this.partialLen < m.length) return;
      this.partial = null;
      this.partialLen = 0;
      onMessage(m);
    }
    // 2. Whole messages inside this chunk: views, no copies.
    while (end - p >= HEADER_LENGTH) {
      const len = this.checkHeader(c, p);
      if (end - p < len) break;
      onMessage(c.subarray(p, p + len));
      p += len;
    }
    // 3. Keep the tail for the next chunk.
    if (p < end) {
      if (end - p >= HEADER_LENGTH) {
        const len = this.checkHeader(c, p);
        const m = new Uint8Array(len);
        const n = end - p;
        if (n < 32) for (let i = 0; i < n; i++) m[i] = c[p + i]!;
        else m.set(c.subarray(p, end), 0);
        this.partial = m;
        this.partialLen = n;
      } else {
        const hdr = this.hdr;
        let k = 0;
        while (p < end) hdr[k++] = c[p++]!;
        this.hdrLen = k;
      }
    }
  }

  /** Checks the header at b[p] and returns the message length. */
  private checkHeader(b: Uint8Array, p: number): number {
    for (let i = 0; i < 16; i++) if (b[p + i] !== 0xff) throw BgpError.connectionNotSynchronized();
    const len = (b[p + 16]! << 8) | b[p + 17]!;
    if (len < HEADER_LENGTH || len > this.maxLength) throw BgpError.badMessageLength(len, `message length out of range [19, ${this.maxLength}]`);
    return len;
  }
}
