// A small structured logger: one JSON object per line on stderr, as MetalLB's go-kit logger prints them, so
// operators keep grepping for the same `event` keys (sessionUp, serviceAnnounced, ...; metallb-compat.md §2.9).
// No dependency: a dozen lines do not justify one, and the sink is injectable so tests read what was logged.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const RESERVED = { ts: 1, level: 1, event: 1 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (default: process.stderr). Each call gets one line including its '\n'. */
  write?: (line: string) => void;
  /** Wall-clock source for the `ts` field (tests pin it). */
  now?: () => Date;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const rec: Record<string, unknown> = { ts: now().toISOString(), level, event };
    // ts, level and event always win: a field of the same name must not hide what the line is.
    for (const src of [base, fields ?? {}]) {
      for (const [k, v] of Object.entries(src)) if (!(k in RESERVED)) rec[k] = v === undefined ? null : plain(v);
    }
    write(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    with: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** Errors become their message (JSON.stringify would print `{}`); bigints become text. */
function plain(v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** A logger that drops everything (library default). */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  with() {
    return nullLogger;
  },
};
