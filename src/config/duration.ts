// Go `time.ParseDuration`, because MetalLB's hold-time and keepalive-time are Go duration strings: the
// accepted syntax ("90s", "1m30s", "1.5h", "300ms", "-2s", a bare "0") and the error texts users see come from
// it. Nanoseconds are bigints so "1.5h" and the int64 overflow check are exact.

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_INT64 = (1n << 63n) - 1n;

export type DurationResult = { ok: true; nanoseconds: bigint } | { ok: false; error: string };

/** Go's strconv.Quote for the printable ASCII/UTF-8 strings configs contain. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

export function parseGoDuration(text: string): DurationResult {
  const invalid = (): DurationResult => ({ ok: false, error: `time: invalid duration ${goQuote(text)}` });
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  // Go special-cases a unitless zero.
  if (s === '0') return { ok: true, nanoseconds: 0n };
  if (s === '') return invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2];
    if (whole === '' && (frac === undefined || frac === '')) return invalid();
    s = s.slice(m?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]*/.exec(s);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') return { ok: false, error: `time: missing unit in duration ${goQuote(text)}` };
    const scale = UNITS.get(unit);
    if (scale === undefined) {
      return { ok: false, error: `time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}` };
    }
    s = s.slice(unit.length);
    let v = BigInt(whole === '' ? '0' : whole) * scale;
    if (frac !== undefined && frac !== '') {
      // Fractions below a nanosecond are dropped, as Go does.
      v += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    }
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return invalid();
  }
  return { ok: true, nanoseconds: neg ? -total : total };
}

/** Go's `time.Duration(int(d.Seconds())) * time.Second`: truncation toward zero. */
export function truncateToSeconds(nanoseconds: bigint): number {
  return Number(nanoseconds / 1_000_000_000n);
}
