import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runIngot, REPO_ROOT } from '../../helpers/cli.js';
import { VERSION } from '../../../src/version.js';

test('ingot --version prints the package version and exits 0', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version);
  const r = runIngot(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('ingot --help lists the subcommands and exits 0', () => {
  const r = runIngot(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: ingot/);
  assert.match(r.stdout, /\bconfig\b/);
  assert.match(r.stdout, /\bplan\b/);
});

test('an unknown command is a usage error: exit 2', () => {
  const r = runIngot(['no-such-command']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command/);
});
