// Kubernetes label selectors as MetalLB builds them from `node-selectors` (metav1.LabelSelectorAsSelector):
// validation of keys, values and operators with Kubernetes' rules, and matching. Inside one selector
// matchLabels and matchExpressions are ANDed; a list of selectors is ORed; an empty selector or an empty list
// selects everything.
import type { LabelRequirement, NodeSelector } from './types.js';

export interface RawRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

export interface RawNodeSelector {
  readonly matchLabels: ReadonlyArray<readonly [string, string]>;
  readonly matchExpressions: readonly RawRequirement[];
}

// Kubernetes "qualified name" part and label value syntax (apimachinery validation.IsQualifiedName /
// IsValidLabelValue).
const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyError(key: string): string | null {
  const parts = key.split('/');
  let name = key;
  if (parts.length > 2) return 'a qualified name must have at most one "/"';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix === '') return 'prefix part must be non-empty';
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix)) {
      return 'prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters';
    }
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_RE.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return null;
}

function labelValueError(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63 || !NAME_RE.test(value)) {
    return "must be no more than 63 characters, consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character";
  }
  return null;
}

function checkKey(key: string): void {
  const e = labelKeyError(key);
  if (e !== null) throw new SelectorError(`invalid label key ${JSON.stringify(key)}: ${e}`);
}

function checkValue(value: string): void {
  const e = labelValueError(value);
  if (e !== null) throw new SelectorError(`invalid label value ${JSON.stringify(value)}: ${e}`);
}

export class SelectorError extends Error {}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Validates one selector; returns an error text (without the "parsing node selector: " wrapper) or the selector. */
export function parseNodeSelector(raw: RawNodeSelector): { ok: true; selector: NodeSelector } | { ok: false; error: string } {
  try {
    const matchLabels: Record<string, string> = {};
    // Sorted by key (as Kubernetes prints selectors) so output and duplicate-peer checks ignore file order.
    const sorted = [...raw.matchLabels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, v] of sorted) {
      checkKey(k);
      checkValue(v);
      matchLabels[k] = v;
    }
    const matchExpressions: LabelRequirement[] = [];
    for (const e of raw.matchExpressions) {
      if (!OPERATORS.has(e.operator)) {
        throw new SelectorError(`${JSON.stringify(e.operator)} is not a valid pod selector operator`);
      }
      checkKey(e.key);
      const op = e.operator as LabelRequirement['operator'];
      if ((op === 'In' || op === 'NotIn') && e.values.length === 0) {
        throw new SelectorError("for 'in', 'notin' operators, values set can't be empty");
      }
      if ((op === 'Exists' || op === 'DoesNotExist') && e.values.length !== 0) {
        throw new SelectorError('values set must be empty for exists and does not exist');
      }
      for (const v of e.values) checkValue(v);
      matchExpressions.push({ key: e.key, operator: op, values: [...e.values] });
    }
    return { ok: true, selector: { matchLabels, matchExpressions } };
  } catch (err) {
    if (err instanceof SelectorError) return { ok: false, error: err.message };
    throw err;
  }
}

export type Labels = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

function lookup(labels: Labels, key: string): string | undefined {
  if (labels instanceof Map) return labels.get(key);
  const rec = labels as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const v = lookup(labels, r.key);
  switch (r.operator) {
    case 'In':
      return v !== undefined && r.values.includes(v);
    case 'NotIn':
      // Kubernetes: NotIn also matches objects that lack the label.
      return v === undefined || !r.values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
  }
}

function oneMatches(sel: NodeSelector, labels: Labels): boolean {
  for (const [k, want] of Object.entries(sel.matchLabels)) {
    if (lookup(labels, k) !== want) return false;
  }
  return sel.matchExpressions.every((r) => requirementMatches(r, labels));
}

/**
 * Does a node with these labels match? Given one selector: matchLabels AND matchExpressions (empty matches
 * all). Given a list (a peer's `nodeSelectors`): entries are ORed, and an empty list matches every node.
 */
export function selectorMatches(selector: NodeSelector | readonly NodeSelector[], labels: Labels): boolean {
  if (Array.isArray(selector)) {
    const list = selector as readonly NodeSelector[];
    return list.length === 0 || list.some((s) => oneMatches(s, labels));
  }
  return oneMatches(selector as NodeSelector, labels);
}
