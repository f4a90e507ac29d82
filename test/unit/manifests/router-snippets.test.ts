// The router configurations in manifests/README.md are parsed by the real routers' own parsers, so a user who
// pastes them gets no syntax error: FRR's `vtysh --dryrun` and BIRD's `bird -p` (parse only, nothing starts,
// nothing touches the network). EdgeOS has no parser to run here; its commands are checked for consistency
// with the example config in manifests.test.ts. .ci/run installs frr and bird2; elsewhere a missing parser
// skips its test loudly, and under CI=true it fails.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';

const readme = readFileSync(join(REPO_ROOT, 'manifests', 'README.md'), 'utf8');

/** The first fenced code block after the `### <heading>` line. */
function snippetAfter(heading: string): string {
  const at = readme.indexOf(`\n### ${heading}`);
  assert.ok(at >= 0, `README has a "### ${heading}" section`);
  const m = /\n```[a-z]*\n([\s\S]*?)\n```\n/.exec(readme.slice(at));
  assert.ok(m, `a code block follows "### ${heading}"`);
  return `${m[1]!}\n`;
}

function which(bin: string): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8', env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } }).trim() || null;
  } catch {
    return null;
  }
}

function skipUnless(bin: string): string | false {
  if (which(bin) !== null) return false;
  const why = `${bin} not found (Debian: ${bin === 'vtysh' ? 'frr' : 'bird2'}; .ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`router snippet parser missing in CI: ${why}`);
  process.stderr.write(`\n*** SKIPPING README snippet check: ${why} ***\n\n`);
  return why;
}

const dir = mkdtempSync(join(tmpdir(), 'ingot-snippets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function parse(bin: string, args: (file: string) => string[], text: string, name: string) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return spawnSync(which(bin)!, args(file), { encoding: 'utf8', timeout: 30_000 });
}

describe('manifests/README.md router snippets', () => {
  test('FRR: `vtysh --dryrun` accepts the configuration', { skip: skipUnless('vtysh') }, () => {
    const conf = snippetAfter('FRR');
    assert.match(conf, /^router bgp 65001$/m);
    const r = parse('vtysh', (f) => ['--dryrun', '-f', f], conf, 'frr.conf');
    assert.equal(r.status, 0, `vtysh --dryrun: ${r.stdout}${r.stderr}`);
    // Not vacuous: the same parser refuses a mistyped command.
    const bad = parse('vtysh', (f) => ['--dryrun', '-f', f], conf.replace('maximum-paths 32', 'maximum-pathz 32'), 'frr-bad.conf');
    assert.notEqual(bad.status, 0, 'vtysh --dryrun refuses an unknown command');
  });

  test('BIRD 2: `bird -p` accepts the configuration', { skip: skipUnless('bird') }, () => {
    const conf = snippetAfter('BIRD 2');
    assert.match(conf, /template bgp/);
    const r = parse('bird', (f) => ['-p', '-c', f], conf, 'bird.conf');
    assert.equal(r.status, 0, `bird -p: ${r.stdout}${r.stderr}`);
    const bad = parse('bird', (f) => ['-p', '-c', f], conf.replace('merge paths yes', 'merge paths yess'), 'bird-bad.conf');
    assert.notEqual(bad.status, 0, 'bird -p refuses a syntax error');
  });
});
