// A linear pre-scan that bounds how deeply a YAML (or JSON) text nests, run before any recursive parser sees
// the text. Why: the `yaml` package composes documents recursively and, at ~1,000 levels (`[` × 1,000), runs
// out of stack; worse, on Node 20 a second such parse can abort the whole process ("FATAL ERROR:
// RegExpCompiler Allocation failed") because a regular expression is compiled with the stack exhausted.
// Nothing can catch that, so the text must never reach the parser. Real files nest a few dozen levels at most
// (`kubectl get -o yaml` with managedFields: ~15), so the bound is generous.
//
// The estimate is an upper bound that errs towards "deeper" only for unusual layouts:
//   - block nesting on a line ≤ 2 × (indentation + leading `- `/`? `/`: ` indicators) + 2 (a block sequence
//     may sit at its parent mapping's indentation; compact `- - -` nests two columns per level);
//   - flow nesting: `[`/`{` opened and not yet closed, outside quoted scalars and comments, counted only where
//     a node can start (so `a[0]` in a plain scalar does not count);
//   - the content lines of block scalars (`|`, `>`) are skipped: their indentation is text, not structure.

/** Deepest estimated nesting accepted before a YAML/JSON text is handed to a parser. */
export const MAX_NESTING = 256;

export interface NestingProblem {
  /** 1-based line where the bound was first exceeded. */
  readonly line: number;
  readonly depth: number;
}

/** Returns where the text nests deeper than `limit` (estimated, see above), or null. Linear in the text. */
export function nestingTooDeep(text: string, limit = MAX_NESTING): NestingProblem | null {
  const SP = 32, TAB = 9, CR = 13, HASH = 35, DQ = 34, SQ = 39, BS = 92;
  const LB = 91, RB = 93, LC = 123, RC = 125, COMMA = 44, COLON = 58, DASH = 45, QM = 63, PIPE = 124, GT = 62;
  let flow = 0;
  let quote = 0; // DQ or SQ inside a quoted scalar (which may span lines)
  let blockScalarIndent = -1; // >= 0: inside a block scalar whose header line had this indentation
  let line = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end === -1) end = n;
    let i = pos;
    while (i < end && text.charCodeAt(i) === SP) i++;
    const indent = i - pos;
    const c0 = i < end ? text.charCodeAt(i) : -1;
    const blank = c0 === -1 || c0 === CR || (c0 === HASH && quote === 0);
    if (blockScalarIndent >= 0) {
      if (blank || indent > blockScalarIndent) {
        pos = end + 1;
        continue;
      }
      blockScalarIndent = -1;
    }
    let block = 0;
    if (quote === 0 && flow === 0) {
      // Leading block indicators: "- ", "? ", ": " (or alone at the end of the line).
      for (;;) {
        const c = text.charCodeAt(i);
        if (!(c === DASH || c === QM || c === COLON)) break;
        const d = i + 1 < end ? text.charCodeAt(i + 1) : SP;
        if (d !== SP && d !== TAB && d !== CR) break;
        block++;
        i++;
        while (i < end && (text.charCodeAt(i) === SP || text.charCodeAt(i) === TAB)) i++;
      }
      const bound = 2 * (indent + block) + 2;
      if (bound > limit) return { line, depth: bound };
    }
    const base = 2 * (indent + block) + 2;
    // The rest of the line: flow brackets, quotes, comments, a block scalar header.
    let prev = SP; // last significant character before i on this line (start of content counts as a space)
    let tokenStart = -1; // start of the last token that began where a node can start
    let tokenEnd = -1;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote !== 0) {
        if (c === BS && quote === DQ) i++;
        else if (c === quote) {
          if (quote === SQ && text.charCodeAt(i + 1) === SQ) i++;
          else {
            quote = 0;
            prev = c;
          }
        }
        continue;
      }
      if (c === SP || c === TAB) {
        prev = SP;
        continue;
      }
      if (c === CR) continue;
      const atNodeStart = prev === SP || prev === LB || prev === LC || prev === COMMA || prev === COLON || prev === DASH || prev === QM;
      if (c === HASH && prev === SP) break;
      if ((c === DQ || c === SQ) && atNodeStart) {
        quote = c;
        continue;
      }
      if ((c === LB || c === LC) && (atNodeStart || flow > 0)) {
        flow++;
        if (base + flow > limit) return { line, depth: base + flow };
      } else if ((c === RB || c === RC) && flow > 0) flow--;
      if (atNodeStart) tokenStart = i;
      tokenEnd = i + 1;
      prev = c;
    }
    // A block scalar header ends its line with | or > plus optional chomping/indentation indicators.
    if (quote === 0 && flow === 0 && tokenStart >= 0) {
      const h = text.charCodeAt(tokenStart);
      if ((h === PIPE || h === GT) && /^[-+0-9]*$/.test(text.slice(tokenStart + 1, tokenEnd))) blockScalarIndent = indent;
    }
    pos = end + 1;
  }
  return null;
}
