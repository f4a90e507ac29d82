// Reading and watching one input file safely (standalone mode's config and cluster files; reusable by any
// "state source" that reads a file). Three concerns, each a failure seen in practice (issue 8):
//
// 1. Safe read (`readRegularFile`): only a regular file (after following symlinks), at most `maxBytes`,
//    and never blocking: the path is opened O_NONBLOCK and checked with fstat on that same descriptor, so a
//    FIFO, socket or device at the path is refused at once (a FIFO used to block the process for 15 s,
//    long enough for every hold timer to expire) and no race between a stat and the open can swap one in.
// 2. Settling (`FileSource`): a change is read only once the file's identity, size and mtime have stayed the
//    same for `settleMs` (on the injected clock), so a file being written (truncated, then filled) is not
//    read half-way; and an empty file is refused unless the last content delivered was empty too.
// 3. Noticing changes: a watch on the file's directory with no filter on names (Kubernetes replaces a
//    ConfigMap mount by swapping the `..data` symlink: the file's own name never shows up in the events),
//    plus a slow poll as a safety net (watches can be lost: inotify limits, network filesystems). Whether
//    anything changed is decided by the resolved path, identity, size and mtime, then by the content.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';

/** Size limits (bytes). A 10,000-Service `kubectl get -o yaml` dump is ~7.5 MB; a MetalLB config a few KB. */
export const MAX_CLUSTER_FILE_BYTES = 256 * 1024 * 1024;
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Wall-clock window within which a file's mtime cannot be trusted to reveal a same-size rewrite. */
const RACY_MS = 2000;

/** What a file looked like when it was read (or stat'ed). */
export interface FileVersion {
  /** The path after following symlinks. */
  readonly realPath: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface FileContent extends FileVersion {
  readonly text: string;
}

export type FileErrorKind = 'unreadable' | 'not-regular' | 'too-large' | 'empty';

export type ReadResult = { readonly ok: true; readonly file: FileContent } | { readonly ok: false; readonly kind: FileErrorKind; readonly error: string };

function errnoText(e: unknown): string {
  if (e instanceof Error && 'code' in e) return String((e as NodeJS.ErrnoException).code);
  return e instanceof Error ? e.message : String(e);
}

function typeName(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function version(realPath: string, st: Stats): FileVersion {
  return { realPath, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

export function sameVersion(a: FileVersion | null, b: FileVersion | null): boolean {
  return a !== null && b !== null && a.realPath === b.realPath && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Stats `path` (following symlinks) without opening it. */
export function statVersion(path: string): { ok: true; version: FileVersion } | { ok: false; error: string } {
  try {
    const st = statSync(path);
    return { ok: true, version: version(realpathSync(path), st) };
  } catch (e) {
    return { ok: false, error: `cannot read ${path}: ${errnoText(e)}` };
  }
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8. Never blocks on a FIFO or device and never throws.
 * A file that grows past the limit while being read is refused too.
 */
export function readRegularFile(path: string, maxBytes: number): ReadResult {
  let fd: number;
  let realPath: string;
  try {
    realPath = realpathSync(path);
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. O_NOCTTY: a terminal at the
    // path must not become our controlling terminal.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { ok: false, kind: 'unreadable', error: `cannot read ${path}: ${errnoText(e)}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, kind: 'not-regular', error: `cannot read ${path}: ${typeName(st)}, not a regular file` };
    if (st.size > maxBytes) return { ok: false, kind: 'too-large', error: `cannot read ${path}: ${st.size} bytes, more than the limit of ${maxBytes}` };
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size, 64 * 1024), maxBytes + 1));
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) return { ok: false, kind: 'too-large', error: `cannot read ${path}: more than the limit of ${maxBytes} bytes` };
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return { ok: true, file: { ...version(realPath, fstatSync(fd)), text: Buffer.concat(chunks, total).toString('utf8') } };
  } catch (e) {
    return { ok: false, kind: 'unreadable', error: `cannot read ${path}: ${errnoText(e)}` };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Nothing useful to do: the read result stands.
    }
  }
}

export interface FileSourceOptions {
  readonly path: string;
  readonly maxBytes: number;
  /** Called with new settled content (text differs from the last delivered). Exceptions are caught and logged. */
  readonly onContent: (file: FileContent, why: string) => void;
  /** Called when the file cannot be used (unreadable, not regular, too large, empty). Exceptions are caught. */
  readonly onError: (error: { kind: FileErrorKind; error: string }) => void;
  /** Called when the file was read again and its text is what was last delivered (it is usable again). */
  readonly onUnchanged?: (why: string) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** The file must keep its identity, size and mtime this long before it is read (ms). Default 250. */
  readonly settleMs?: number;
  /** Safety-net poll interval (ms); 0 disables. Default 5000. */
  readonly pollMs?: number;
  /** Watch the directory (default true). */
  readonly watch?: boolean;
}

/**
 * One watched input file. `readNow()` reads at once (startup, SIGHUP); changes seen by the directory watch or
 * the poll are read after they settle. Every callback it runs is guarded: nothing it does throws into a timer
 * or a watcher callback.
 */
export class FileSource {
  readonly path: string;
  private readonly o: FileSourceOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly settleMs: number;
  private watcher: FSWatcher | null = null;
  private settleTimer: TimerHandle | null = null;
  private pollTimer: TimerHandle | null = null;
  /** Last content delivered (null before the first). */
  private delivered: FileContent | null = null;
  /** The version last looked at (delivered, refused or unchanged content): no work until it changes. */
  private seen: FileVersion | null = null;
  /**
   * The seen version was modified within RACY_MS of when it was read: an in-place rewrite of the same size
   * within the filesystem's timestamp granularity (a few ms on Linux) would look identical to stat, so the
   * content is compared once more on the next check (git's "racy clean" problem).
   */
  private racy = false;
  /** A change waiting to settle: the version seen and since when. */
  private pending: { version: FileVersion; since: number } | null = null;
  private closed = false;
  /** Reads done (for tests and /status). */
  reads = 0;

  constructor(o: FileSourceOptions) {
    this.o = o;
    this.path = resolve(o.path);
    this.clock = o.clock ?? systemClock({ unref: true });
    this.log = o.logger ?? nullLogger;
    this.settleMs = o.settleMs ?? 250;
  }

  /** The content last delivered. */
  get current(): FileContent | null {
    return this.delivered;
  }

  /** Starts watching (the directory watch and the poll). */
  start(): void {
    if (this.closed) return;
    if (this.o.watch !== false) this.startWatch();
    this.schedulePoll();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.settleTimer !== null) this.clock.clearTimeout(this.settleTimer);
    if (this.pollTimer !== null) this.clock.clearTimeout(this.pollTimer);
    this.settleTimer = this.pollTimer = null;
  }

  /**
   * Reads now, without settling (startup, SIGHUP: the operator says the file is ready). Delivers new content
   * (or, with `force`, the same content again); returns what happened.
   */
  readNow(why: string, force = false): ReadResult {
    this.pending = null;
    const r = this.read();
    if (!r.ok) {
      this.refuse(r);
      return r;
    }
    this.accept(r.file, why, force);
    return r;
  }

  /** Something may have changed (a watch event, a poll, a test): stat, and read once it has settled. */
  check(why = 'file changed'): void {
    if (this.closed) return;
    try {
      this.checkOrThrow(why);
    } catch (e) {
      this.log.error('fileCheckError', { file: this.path, error: e });
    }
  }

  private checkOrThrow(why: string): void {
    const st = statVersion(this.path);
    if (!st.ok) {
      // Gone (a rename in progress, or deleted): report it once it stays gone for the settle period.
      this.pending = null;
      if (this.seen !== null) {
        this.seen = null;
        this.armSettle(() => {
          const again = statVersion(this.path);
          if (!again.ok) this.refuse({ kind: 'unreadable', error: again.error });
          else this.check(why);
        });
      }
      return;
    }
    if (sameVersion(st.version, this.seen) && !this.racy) {
      this.pending = null;
      return;
    }
    const now = this.clock.now();
    if (this.pending === null || !sameVersion(this.pending.version, st.version)) {
      // New or still changing: (re)start the settle period.
      this.pending = { version: st.version, since: now };
      this.armSettle(() => this.check(why));
      return;
    }
    if (now - this.pending.since < this.settleMs) {
      this.armSettle(() => this.check(why));
      return;
    }
    this.pending = null;
    const r = this.read();
    if (!r.ok) {
      this.markSeen(st.version);
      this.refuse(r);
      return;
    }
    if (!sameVersion(r.file, st.version)) {
      // It changed between the stat and the read: settle again.
      this.pending = { version: r.file, since: this.clock.now() };
      this.armSettle(() => this.check(why));
      return;
    }
    this.accept(r.file, why, false);
  }

  private read(): ReadResult {
    this.reads++;
    const r = readRegularFile(this.path, this.o.maxBytes);
    if (r.ok && r.file.text.trim() === '' && !(this.delivered !== null && this.delivered.text.trim() === '')) {
      return {
        ok: false,
        kind: 'empty',
        error: `${this.path} is empty (an empty file is accepted only when the previous content was empty too; a file being written is read once it settles)`,
      };
    }
    return r;
  }

  private markSeen(v: FileVersion): void {
    this.seen = v;
    this.racy = Date.now() - v.mtimeMs < RACY_MS;
  }

  private accept(file: FileContent, why: string, force: boolean): void {
    this.markSeen(file);
    if (!force && this.delivered !== null && this.delivered.text === file.text) {
      this.delivered = file;
      try {
        this.o.onUnchanged?.(why);
      } catch (e) {
        this.log.error('fileHandlerError', { file: this.path, error: e });
      }
      return;
    }
    this.delivered = file;
    try {
      this.o.onContent(file, why);
    } catch (e) {
      this.log.error('fileHandlerError', { file: this.path, error: e });
    }
  }

  private refuse(r: { kind: FileErrorKind; error: string }): void {
    try {
      this.o.onError({ kind: r.kind, error: r.error });
    } catch (e) {
      this.log.error('fileHandlerError', { file: this.path, error: e });
    }
  }

  private armSettle(fn: () => void): void {
    if (this.closed) return;
    if (this.settleTimer !== null) this.clock.clearTimeout(this.settleTimer);
    this.settleTimer = this.clock.setTimeout(() => {
      this.settleTimer = null;
      try {
        fn();
      } catch (e) {
        this.log.error('fileCheckError', { file: this.path, error: e });
      }
    }, this.settleMs);
  }

  private schedulePoll(): void {
    const ms = this.o.pollMs ?? 5000;
    if (this.closed || ms <= 0) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = null;
      this.check('poll');
      this.schedulePoll();
    }, ms);
  }

  private startWatch(): void {
    const dir = dirname(this.path);
    try {
      // No filter on the event's file name: a symlink swap (`..data`), an editor's rename-replace, or a
      // change to a parent link all concern this file without naming it. check() decides by stat.
      const w = watch(dir, { persistent: false }, () => this.check('file changed'));
      w.on('error', (e) => {
        this.log.error('watchError', { file: this.path, dir, error: e, fallback: `poll every ${this.o.pollMs ?? 5000} ms` });
        w.close();
        if (this.watcher === w) this.watcher = null;
      });
      this.watcher = w;
    } catch (e) {
      this.log.error('watchError', { file: this.path, dir, error: e, fallback: `poll every ${this.o.pollMs ?? 5000} ms` });
    }
  }
}
