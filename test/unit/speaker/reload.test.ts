// Issue 8, standalone reloads: a bad file (hostile YAML, empty, half-written, a FIFO, a directory, too large)
// never throws out of a watch timer or SIGHUP, is reported (log naming the file, /status staleFiles,
// metallb_k8s_client_config_stale_bool) and the last good state stays; changes are read once they settle
// (fake clock); Kubernetes' atomic `..data` symlink swap is noticed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/log.js';
import { SpeakerMetrics } from '../../../src/metrics/registry.js';
import { FileSource, readRegularFile } from '../../../src/speaker/file-source.js';
import { Standalone } from '../../../src/speaker/standalone.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { captureLog, until } from './harness.js';
import { CONFIG, cluster, recordingSpeaker } from './reload-helpers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'igsp-reload-'));
  dirs.push(d);
  return d;
}

function setup(o: { config?: string; cluster?: string; clock?: FakeClock } = {}) {
  const dir = tmp();
  const c = join(dir, 'config.yaml');
  const k = join(dir, 'cluster.yaml');
  writeFileSync(c, o.config ?? CONFIG);
  writeFileSync(k, o.cluster ?? cluster(['web']));
  const rec = recordingSpeaker();
  const log = captureLog();
  const metrics = new SpeakerMetrics();
  const clock = o.clock ?? new FakeClock();
  const s = new Standalone({
    nodeName: 'n1',
    configFile: c,
    clusterFile: k,
    agent: rec.agent,
    watch: false,
    clock,
    settleMs: 250,
    pollMs: 1000,
    metrics,
    logger: createLogger({ write: log.write }),
  });
  assert.equal(s.start(), null);
  return { dir, c, k, s, ...rec, log, metrics, clock };
}

async function staleMetric(m: SpeakerMetrics): Promise<string | undefined> {
  return /^metallb_k8s_client_config_stale_bool (\d)/m.exec(await m.metrics())?.[1];
}

const HOSTILE: Record<string, string> = {
  undefinedAlias: 'x: *nope\n',
  aliases: `a: &a [1]\nb: [${Array(200).fill('*a').join(',')}]\n`,
  deep: '['.repeat(20_000),
  deepBlock: `${'- '.repeat(20_000)}x\n`,
  garbage: '\u0000\u0001\u0002{]:-',
};

describe('standalone: a bad file on reload (SIGHUP and the watch timer)', () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    for (const which of ['cluster', 'config'] as const) {
      it(`${which} file: ${name} — no throw, reported, last good state kept`, async () => {
        const t = setup();
        const before = t.announced();
        assert.deepEqual(before, ['10.1.0.0/32']);
        const file = which === 'cluster' ? t.k : t.c;
        writeFileSync(file, text);
        assert.doesNotThrow(() => t.s.reload('SIGHUP'));
        // The timer path: check(), then the settle timer fires on the fake clock.
        writeFileSync(file, `${text}\n`);
        assert.doesNotThrow(() => {
          t.s.check();
          t.clock.advance(1000);
        });
        assert.deepEqual(t.announced(), before, 'the announced set did not change');
        assert.ok(t.s.stale.has(file));
        assert.deepEqual(Object.keys(t.s.statusFiles().staleFiles), [file]);
        const ev = t.log.lines.find((l) => l['event'] === 'configStale');
        assert.equal(ev?.['file'], file);
        assert.equal(await staleMetric(t.metrics), '1');
        // A good file again recovers.
        writeFileSync(file, which === 'cluster' ? cluster(['web', 'api']) : CONFIG);
        t.s.check();
        t.clock.advance(1000);
        assert.equal(t.s.stale.size, 0);
        assert.equal(await staleMetric(t.metrics), '0');
        t.s.close();
      });
    }
  }
});

describe('standalone: settle, then read (fake clock)', () => {
  it('a truncated file written again a second later never withdraws anything', () => {
    const t = setup({ cluster: cluster(['a', 'b']) });
    const before = t.announced();
    assert.equal(before.length, 2);
    const applied = t.calls.length;
    truncateSync(t.k, 0);
    t.s.check();
    t.clock.advance(100);
    t.s.check();
    t.clock.advance(400); // settled and read: empty → refused
    assert.equal(t.calls.length, applied, 'the empty file was not applied');
    assert.match(t.s.stale.get(t.k) ?? '', /is empty/);
    // Half-written: the first half now, the rest later; only the complete file applies.
    const full = cluster(['a', 'b', 'c']);
    writeFileSync(t.k, full.slice(0, full.length >> 1));
    t.s.check();
    t.clock.advance(100);
    writeFileSync(t.k, full);
    t.s.check();
    t.clock.advance(100);
    assert.equal(t.calls.length, applied, 'nothing read while it was changing');
    t.clock.advance(1000);
    assert.equal(t.calls.length, applied + 1);
    assert.equal(t.announced().length, 3);
    assert.equal(t.s.stale.size, 0);
    t.s.close();
  });

  it('a truncated config never sends Cease: the peers stay', () => {
    const t = setup();
    const applied = t.calls.length;
    writeFileSync(t.c, '');
    t.s.check();
    t.clock.advance(1000);
    t.s.reload('SIGHUP');
    assert.ok(t.calls.slice(applied).every((c) => c.peers.length === 1), 'every apply still has the peer');
    assert.match(t.s.stale.get(t.c) ?? '', /is empty/);
    t.s.close();
  });

  it('an empty file is accepted when the previous content was empty too', () => {
    const t = setup({ config: '' + CONFIG });
    const f = join(t.dir, 'empty.yaml');
    writeFileSync(f, '');
    const got: string[] = [];
    const errs: string[] = [];
    const src = new FileSource({ path: f, maxBytes: 100, clock: t.clock, watch: false, onContent: (c) => got.push(c.text), onError: (e) => errs.push(e.kind) });
    assert.equal(src.readNow('start').ok, false);
    assert.deepEqual(errs, ['empty']);
    writeFileSync(f, ' \n\n');
    assert.equal(src.readNow('x').ok, false, 'whitespace only counts as empty');
    writeFileSync(f, 'a: 1\n');
    src.readNow('x');
    writeFileSync(f, '');
    src.readNow('x');
    assert.deepEqual(got, ['a: 1\n']);
    t.s.close();
  });

  it('the poll notices a change without any watch event', () => {
    const t = setup();
    writeFileSync(t.k, cluster(['web', 'api']));
    t.clock.advance(3000);
    assert.equal(t.announced().length, 2);
    t.s.close();
  });
});

describe('file-source: only regular files, bounded, never blocking', () => {
  it('a FIFO at the path is refused at once (it used to block the process)', { skip: process.platform !== 'linux' && 'mkfifo: Linux only here' }, () => {
    const t = setup();
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = performance.now();
    const r = readRegularFile(fifo, 1024);
    assert.ok(!r.ok);
    assert.equal(r.kind, 'not-regular');
    assert.match(r.error, /a FIFO, not a regular file/);
    // The config path becomes a FIFO (renamed over it): SIGHUP reports and keeps the peers.
    renameSync(fifo, t.c);
    t.s.reload('SIGHUP');
    assert.ok(performance.now() - t0 < 1000);
    assert.match(t.s.stale.get(t.c) ?? '', /FIFO/);
    assert.equal(t.calls.at(-1)?.peers.length, 1);
    t.s.close();
  });

  it('directories, devices, symlinks to them, and files over the limit are refused', () => {
    const d = tmp();
    assert.match((readRegularFile(d, 10) as { error: string }).error, /a directory/);
    symlinkSync('/dev/zero', join(d, 'z'));
    assert.match((readRegularFile(join(d, 'z'), 10) as { error: string }).error, /a character device/);
    writeFileSync(join(d, 'big'), 'x'.repeat(101));
    const r = readRegularFile(join(d, 'big'), 100);
    assert.ok(!r.ok && r.kind === 'too-large');
    writeFileSync(join(d, 'ok'), 'x'.repeat(100));
    symlinkSync(join(d, 'ok'), join(d, 'link'));
    const ok = readRegularFile(join(d, 'link'), 100);
    assert.ok(ok.ok && ok.file.text.length === 100 && ok.file.realPath === join(d, 'ok'));
  });
});

describe('standalone: Kubernetes ConfigMap mounts (atomic ..data symlink swap)', () => {
  /** dir/..2026_N/{config,cluster}, dir/..data -> ..2026_N, dir/config -> ..data/config (as the kubelet does). */
  function mount(dir: string, n: number, files: Record<string, string>): void {
    const ts = join(dir, `..2026_12_07_${n}`);
    mkdirSync(ts);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(ts, name), text);
    symlinkSync(`..2026_12_07_${n}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(dir, name));
      } catch {
        // Already linked (every version after the first).
      }
    }
  }

  it('a swap is seen by the real directory watch and applied', async () => {
    const dir = tmp();
    mount(dir, 1, { config: CONFIG, cluster: cluster(['web']) });
    const rec = recordingSpeaker();
    const s = new Standalone({ nodeName: 'n1', configFile: join(dir, 'config'), clusterFile: join(dir, 'cluster'), agent: rec.agent, settleMs: 20, pollMs: 0 });
    assert.equal(s.start(), null);
    assert.equal(rec.announced().length, 1);
    mount(dir, 2, { config: CONFIG, cluster: cluster(['web', 'api']) });
    await until(() => rec.announced().length === 2, 'the swap to be applied', 5000);
    mount(dir, 3, { config: CONFIG.replace('10.0.0.1', '10.0.0.7'), cluster: cluster(['web', 'api']) });
    await until(() => rec.calls.at(-1)?.peers[0]?.peerAddress === '10.0.0.7', 'the second swap (config)', 5000);
    s.close();
  });

  it('a swap to identical content applies nothing', () => {
    const dir = tmp();
    const clock = new FakeClock();
    mount(dir, 1, { config: CONFIG, cluster: cluster(['web']) });
    const rec = recordingSpeaker();
    const s = new Standalone({ nodeName: 'n1', configFile: join(dir, 'config'), clusterFile: join(dir, 'cluster'), agent: rec.agent, clock, watch: false, pollMs: 0 });
    assert.equal(s.start(), null);
    mount(dir, 2, { config: CONFIG, cluster: cluster(['web']) });
    s.check();
    clock.advance(1000);
    assert.equal(rec.calls.length, 1);
    s.close();
  });
});
