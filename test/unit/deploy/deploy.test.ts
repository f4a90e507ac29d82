// deploy/: the alert rules and the Grafana dashboard name only metrics ingot really exports, so a renamed
// metric breaks this test rather than an operator's alert. Metric names are looked up as string literals in
// src/ (prom-client registrations); process_* and nodejs_* come from prom-client's default collectors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../helpers/cli.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const registered = new Set<string>();
for (const f of sources(join(REPO_ROOT, 'src'))) {
  for (const m of readFileSync(f, 'utf8').matchAll(/['"`]((?:metallb|ingot)_[a-z0-9_]+)['"`]/g)) registered.add(m[1]!);
}

function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:metallb|ingot|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

function assertKnown(where: string, expr: string): void {
  const names = metricsIn(expr);
  assert.ok(names.length > 0, `${where}: names no metric: ${expr}`);
  for (const n of names) {
    if (n.startsWith('process_') || n.startsWith('nodejs_')) continue;
    assert.ok(registered.has(n), `${where}: ${n} is not a metric ingot registers (src/)`);
  }
}

describe('deploy/', () => {
  test('found the registrations', () => {
    assert.ok(registered.has('metallb_bgp_session_up') && registered.size >= 10, `only ${registered.size} metric names found in src/`);
  });

  test('alert rules: well-formed, every expression names real metrics', () => {
    const doc = parse(readFileSync(join(REPO_ROOT, 'deploy/ingot-alerts.yaml'), 'utf8')) as { groups: { name: string; rules: Record<string, unknown>[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 8, 'a useful set of alerts');
    const names = new Set<string>();
    for (const r of rules) {
      const alert = String(r['alert']);
      assert.ok(!names.has(alert), `duplicate alert ${alert}`);
      names.add(alert);
      assert.match(alert, /^[A-Z][A-Za-z0-9]+$/);
      assert.ok(['critical', 'warning', 'info'].includes(String((r['labels'] as Record<string, string>)['severity'])), `${alert}: severity`);
      assert.equal(typeof (r['annotations'] as Record<string, string>)['summary'], 'string', `${alert}: summary`);
      assertKnown(alert, String(r['expr']));
    }
    for (const mlb of ['MetalLBStaleConfig', 'MetalLBConfigNotLoaded', 'MetalLBAddressPoolExhausted', 'MetalLBBGPSessionDown']) assert.ok(names.has(mlb), `MetalLB's ${mlb} kept`);
  });

  test('Grafana dashboard: valid JSON, every target names real metrics, panels do not overlap', () => {
    const d = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/ingot-dashboard.json'), 'utf8')) as { panels: { title: string; gridPos: { x: number; y: number; w: number; h: number }; targets: { expr: string }[] }[] };
    assert.ok(d.panels.length >= 10);
    const cells = new Set<string>();
    for (const p of d.panels) {
      assert.ok(p.targets.length > 0, `${p.title}: no query`);
      for (const t of p.targets) assertKnown(p.title, t.expr);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title}: wider than the grid`);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const c = `${x},${y}`;
          assert.ok(!cells.has(c), `${p.title} overlaps another panel at ${c}`);
          cells.add(c);
        }
      }
    }
  });
});
