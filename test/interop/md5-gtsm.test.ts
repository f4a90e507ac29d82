// TCP-MD5 (RFC 2385) and GTSM (RFC 5082) through src/net, between two network namespaces joined by a veth
// pair, against ingot's own listener and against FRR's bgpd. The negative cases are the point: a wrong or
// missing key, or a TTL below the minimum, must make the kernel drop the SYN, so the client times out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { interopSkip } from '../helpers/interop.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { NetnsLab, waitFor } from '../../src/lab/netns.js';

// Namespaces igmd-node (the client side: ingot's speaker) and igmd-peer (ingot's listener, or FRR), joined
// by a veth pair named eth0 on both sides.
// Made in before(): the constructor already runs `ip`, which must not happen when the suite is skipped.
let lab: NetnsLab;
const NODE = 'node';
const PEER = 'peer';
const NODE4 = '10.201.0.1';
const PEER4 = '10.201.0.2';
const NODE6 = 'fd00:201::1';
const PEER6 = 'fd00:201::2';
const KEY = 'ingot-md5-key';
const FRR_KEY = 'ingot-frr-key';
/** Bound on every handshake: a dropped SYN is retransmitted after 1 s, so 3 s covers two retries. */
const HANDSHAKE_MS = 3000;
const SUPPORT = join(REPO_ROOT, 'test/interop/support/md5');

interface Proc {
  child: ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the first line (already seen or future) matching `pred`; rejects after `ms`. */
  waitFor(pred: (line: string) => boolean, ms: number, what: string): Promise<string>;
}

/** Starts `cmd` inside lab namespace `ns`, collecting its stdout lines and stderr; lab.teardown() stops it. */
function startInNs(ns: string, cmd: string[]): Proc {
  const child = lab.spawn(ns, cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters) w();
  });
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    for (const w of waiters) w();
  });
  const waitFor = (pred: (line: string) => boolean, ms: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = [...lines, ...stderr].find(pred);
        if (hit === undefined) return false;
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; stdout: ${lines.join(' | ')}; stderr: ${stderr.join(' | ')}`));
      }, ms);
      if (check()) return;
      waiters.push(() => void check());
      child.on('exit', (code) => {
        if (!check()) {
          clearTimeout(timer);
          reject(new Error(`${cmd.join(' ')} exited (${code}) before ${what}; stdout: ${lines.join(' | ')}; stderr: ${stderr.join(' | ')}`));
        }
      });
    });
  return { child, lines, stderr, waitFor };
}

async function stop(p: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function nodeScript(ns: string, script: string, arg: unknown): Proc {
  return startInNs(ns, [process.execPath, '--import', 'tsx', join(SUPPORT, script), JSON.stringify(arg)]);
}

interface Outcome {
  result: 'connected' | 'timeout' | 'error';
  error?: string;
  data?: string;
}

/** Runs connect.ts in the node namespace and returns its outcomes by attempt name. */
async function connectFromNode(attempts: object[]): Promise<Record<string, Outcome>> {
  const p = nodeScript(NODE, 'connect.ts', attempts);
  const line = await p.waitFor((l) => l.startsWith('{'), HANDSHAKE_MS + 12_000, 'connect.ts results');
  await stop(p);
  return JSON.parse(line) as Record<string, Outcome>;
}

function accepted(p: Proc): Array<{ remote: string; port: number; ttl: number; minTtl: number }> {
  return p.lines
    .filter((l) => l.includes('"accepted"'))
    .map((l) => JSON.parse(l) as { remote: string; port: number; ttl: number; minTtl: number });
}

/** tcpdump in the peer namespace, verifying RFC 2385 signatures with `key`. Ready once it is capturing. */
async function startTcpdump(key: string, port: number): Promise<Proc> {
  const p = startInNs(PEER, ['tcpdump', '-i', 'eth0', '-n', '-l', '-M', key, 'tcp', 'port', String(port)]);
  await p.waitFor((l) => l.includes('listening on'), 10_000, 'tcpdump to start');
  return p;
}

describe('TCP-MD5 and GTSM between network namespaces', { skip: interopSkip({ binaries: ['tcpdump', '/usr/lib/frr/bgpd'] }) }, () => {
  let tmp = '';
  before(() => {
    lab = new NetnsLab('igmd');
    lab.pair(NODE, PEER, { a: { v4: `${NODE4}/24`, v6: `${NODE6}/64` }, b: { v4: `${PEER4}/24`, v6: `${PEER6}/64` } }, 'eth0');
    tmp = lab.tempDir('frr');
  });

  // Stops every process started here (listeners, clients, tcpdump, bgpd) and deletes the namespaces, even
  // when setup or a test failed half way.
  after(async () => {
    await lab?.teardown();
  });

  it('an ingot listener with a key per peer accepts only clients that sign with that key (IPv4 and IPv6)', async () => {
    const dump = await startTcpdump(KEY, 179);
    const listener = nodeScript(PEER, 'listen.ts', [
      { family: 4, localAddress: PEER4, port: 179, md5: [{ peer: NODE4, key: KEY }] },
      { family: 6, localAddress: PEER6, port: 179, md5: [{ peer: NODE6, key: KEY }] },
    ]);
    try {
      await listener.waitFor((l) => l.includes('"ready"'), 15_000, 'listener ready');
      const common = { port: 179, timeoutMs: HANDSHAKE_MS };
      const out = await connectFromNode([
        { name: 'v4-right', family: 4, host: PEER4, md5: { peer: PEER4, key: KEY }, ...common },
        { name: 'v4-wrong', family: 4, host: PEER4, md5: { peer: PEER4, key: 'not-the-key' }, ...common },
        { name: 'v4-none', family: 4, host: PEER4, ...common },
        { name: 'v6-right', family: 6, host: PEER6, md5: { peer: PEER6, key: KEY }, ...common },
        { name: 'v6-wrong', family: 6, host: PEER6, md5: { peer: PEER6, key: 'not-the-key' }, ...common },
        { name: 'v6-none', family: 6, host: PEER6, ...common },
      ]);
      assert.deepEqual(out['v4-right'], { result: 'connected', local: NODE4, data: Buffer.from('hello\n').toString('hex') });
      assert.deepEqual(out['v6-right'], { result: 'connected', local: NODE6, data: Buffer.from('hello\n').toString('hex') });
      for (const name of ['v4-wrong', 'v4-none', 'v6-wrong', 'v6-none']) {
        assert.deepEqual(out[name], { result: 'timeout' }, `${name} must not complete a handshake`);
      }
      // The listener reports accepts on its own stdout, which may arrive after connect.ts's result line.
      await waitFor('the listener to report two accepts', () => accepted(listener).length >= 2, { timeoutMs: 5000, intervalMs: 50 }).catch(() => {});
      assert.deepEqual(accepted(listener).map((a) => a.remote).sort(), [NODE4, NODE6].sort());
    } finally {
      await stop(listener);
      await stop(dump, 'SIGINT');
    }
    // tcpdump checks the signature with the key: the right key's segments verify, the wrong key's do not.
    const text = dump.lines.join('\n');
    assert.match(text, /md5 valid/, `tcpdump saw no valid signature:\n${text}`);
    assert.match(text, /md5\s+\(invalid\)|md5 invalid/, `tcpdump saw no invalid signature:\n${text}`);
    assert.ok(dump.lines.some((l) => l.includes(`${NODE6}.`) && l.includes('md5 valid')), 'IPv6 segments signed');
  });

  it('FRR bgpd with `neighbor X password K` accepts the right key and sends its OPEN; a wrong key never connects', async () => {
    const conf = join(tmp, 'bgpd.conf');
    writeFileSync(
      conf,
      [
        'frr defaults traditional',
        'hostname igmd-frr',
        'router bgp 64512',
        ` bgp router-id ${PEER4}`,
        ...[NODE4, NODE6].flatMap((n) => [
          ` neighbor ${n} remote-as 64512`,
          ` neighbor ${n} password ${FRR_KEY}`,
          // passive: FRR only answers, so the one connection under test is ours (no collision, RFC 4271 §6.8)
          ` neighbor ${n} passive`,
        ]),
        '',
      ].join('\n'),
    );
    const bgpd = startInNs(PEER, [
      '/usr/lib/frr/bgpd', '-f', conf, '-i', join(tmp, 'bgpd.pid'), '-z', join(tmp, 'zserv.api'),
      '--vty_socket', tmp, '-P', '0', '-Z', '-S', '-n', '--log', 'stdout',
    ]);
    try {
      await waitForListen(PEER, 179, 15_000);
      const common = { port: 179, timeoutMs: HANDSHAKE_MS, read: 19 };
      const out = await connectFromNode([
        { name: 'v4-right', family: 4, host: PEER4, md5: { peer: PEER4, key: FRR_KEY }, ...common },
        { name: 'v4-wrong', family: 4, host: PEER4, md5: { peer: PEER4, key: 'not-the-key' }, ...common },
        { name: 'v6-right', family: 6, host: PEER6, md5: { peer: PEER6, key: FRR_KEY }, ...common },
        { name: 'v6-none', family: 6, host: PEER6, ...common },
      ]);
      for (const name of ['v4-right', 'v6-right']) {
        const o = out[name];
        assert.equal(o?.result, 'connected', `${name}: ${JSON.stringify(o)}; bgpd: ${bgpd.lines.slice(-10).join(' | ')}`);
        const header = Buffer.from(o.data ?? '', 'hex');
        assert.equal(header.length, 19, `${name}: a whole BGP header (RFC 4271 §4.1)`);
        assert.ok(header.subarray(0, 16).equals(Buffer.alloc(16, 0xff)), `${name}: marker all ones`);
        assert.equal(header[18], 1, `${name}: type 1 OPEN`);
        assert.ok(header.readUInt16BE(16) >= 29, `${name}: OPEN length at least 29 (RFC 4271 §4.2)`);
      }
      assert.deepEqual(out['v4-wrong'], { result: 'timeout' });
      assert.deepEqual(out['v6-none'], { result: 'timeout' });
    } finally {
      await stop(bgpd);
    }
  });

  it('GTSM: a listener with minTtl 254 accepts TTL 255 from a directly connected peer and drops TTL 64 (IPv4 and IPv6)', async () => {
    const listener = nodeScript(PEER, 'listen.ts', [
      { family: 4, localAddress: PEER4, port: 1179, ttl: 255, minTtl: 254 },
      { family: 6, localAddress: PEER6, port: 1179, ttl: 255, minTtl: 254 },
    ]);
    try {
      await listener.waitFor((l) => l.includes('"ready"'), 15_000, 'listener ready');
      const common = { port: 1179, timeoutMs: HANDSHAKE_MS };
      const out = await connectFromNode([
        { name: 'v4-255', family: 4, host: PEER4, ttl: 255, ...common },
        { name: 'v4-64', family: 4, host: PEER4, ttl: 64, ...common },
        { name: 'v6-255', family: 6, host: PEER6, ttl: 255, ...common },
        { name: 'v6-64', family: 6, host: PEER6, ttl: 64, ...common },
      ]);
      assert.equal(out['v4-255']?.result, 'connected', JSON.stringify(out['v4-255']));
      assert.equal(out['v6-255']?.result, 'connected', JSON.stringify(out['v6-255']));
      assert.deepEqual(out['v4-64'], { result: 'timeout' }, 'TTL 64 is below the minimum');
      assert.deepEqual(out['v6-64'], { result: 'timeout' }, 'hop limit 64 is below the minimum');
      await waitFor('the listener to report two accepts', () => accepted(listener).length >= 2, { timeoutMs: 5000, intervalMs: 50 }).catch(() => {});
      const acc = accepted(listener);
      assert.deepEqual(acc.map((a) => a.remote).sort(), [NODE4, NODE6].sort());
      // Accepted sockets inherit the listener's options, so ingot's replies also leave with TTL 255 (RFC 5082 §3).
      for (const a of acc) assert.deepEqual([a.ttl, a.minTtl], [255, 254]);
    } finally {
      await stop(listener);
    }
  });
});

/** Polls `ss` in lab namespace `ns` until something listens on TCP `port`. */
async function waitForListen(ns: string, port: number, ms: number): Promise<void> {
  await waitFor(`a listener on port ${port} in ${lab.ns(ns)}`, () => lab.exec(ns, 'ss', ['-Hltn', `sport = :${port}`]).trim() !== '', {
    timeoutMs: ms,
    intervalMs: 100,
  });
}
