// Layer 2 liveness soak (NOT part of `npm test`): N speakers, each its own process with the real membership
// worker, Layer2Announcer and an in-memory frame engine, on loopback UDP, for a long time under CPU load
// (stress-ng when installed, else one busy loop per core) and with periodic main-thread stalls (a "big
// reload"). Nobody is killed, so every dead declaration is a false alarm and every ownership change after
// the initial convergence is a needless move. Both must be zero.
//
//   node --import tsx scripts/l2-soak.ts [--speakers 3] [--ips 20] [--duration 600] [--stall-ms 400]
//                                        [--stall-every 5] [--no-load] [--interval 50] [--dead-after 300]
//
// Prints each event as it happens and a summary; exit code 1 when a false alarm or a move was seen.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Layer2Announcer, type Layer2Engine } from '../src/l2/announcer.js';
import { WorkerMembership } from '../src/l2/member-thread.js';
import type { MemberAddress } from '../src/l2/membership.js';
import { parseConfig, type Config } from '../src/config/index.js';
import type { ServiceView } from '../src/announce/index.js';
import { freeUdpPorts } from '../test/helpers/ports.js';

type ChildMsg =
  | { t: 'owned'; node: string; ips: string[]; at: number }
  | { t: 'down'; node: string; member: string; reason: string; silentMs: number; at: number }
  | { t: 'stats'; node: string; maxLag: number; drops: Record<string, number>; stalls: number; at: number }
  | { t: 'ready'; node: string }
  | { t: 'reannounce'; node: string; ips: string[]; at: number };

const { values: args } = parseArgs({
  options: {
    speakers: { type: 'string', default: '3' },
    ips: { type: 'string', default: '20' },
    duration: { type: 'string', default: '600' },
    'stall-ms': { type: 'string', default: '400' },
    'stall-every': { type: 'string', default: '5' },
    'no-load': { type: 'boolean', default: false },
    interval: { type: 'string', default: '50' },
    'dead-after': { type: 'string', default: '300' },
    child: { type: 'string' },
    ports: { type: 'string' },
    key: { type: 'string' },
  },
});

const N = Number(args.speakers);
const IPS = Number(args.ips);

function services(): ServiceView[] {
  return Array.from({ length: IPS }, (_, i) => ({ key: `soak/svc-${i}`, type: 'LoadBalancer', ips: [`192.0.2.${i + 1}`], externalTrafficPolicy: 'Cluster' as const }));
}

async function child(name: string): Promise<void> {
  const ports = String(args.ports).split(',').map(Number);
  const members: MemberAddress[] = ports.map((port, i) => ({ name: `soak-${i}`, address: '127.0.0.1', port }));
  const self = members.find((m) => m.name === name);
  if (self === undefined) throw new Error(`no member ${name}`);
  const parsed = parseConfig('address-pools:\n- name: l2\n  protocol: layer2\n  addresses:\n  - 192.0.2.0/24\n');
  if (!parsed.ok) throw new Error(parsed.error);
  const config: Config = parsed.config;
  const send = (m: ChildMsg): void => void process.send?.(m);
  const membership = new WorkerMembership({
    self: name,
    members,
    key: Buffer.from(String(args.key), 'hex'),
    bindAddress: '127.0.0.1',
    port: self.port,
    intervalMs: Number(args.interval),
    deadAfterMs: Number(args['dead-after']),
  });
  let maxLag = 0;
  membership.on({
    onMemberDown: (member, reason, silentMs) => send({ t: 'down', node: name, member, reason, silentMs, at: Date.now() }),
    onChange: (v) => {
      for (const m of v.members) if (m.status === 'self') maxLag = Math.max(maxLag, m.lag);
    },
  });
  const engine: Layer2Engine = {
    setOwned: (ips) => send({ t: 'owned', node: name, ips: [...ips], at: Date.now() }),
    reannounce: (ips) => send({ t: 'reannounce', node: name, ips: [...ips], at: Date.now() }),
    onConflict: () => undefined,
    status: () => ({}),
    stop: async () => undefined,
  };
  const announcer = new Layer2Announcer({ nodeName: name, engine, membership });
  announcer.setConfig(config);
  announcer.setNode({ name, labels: {} });
  const pool = config.pools[0];
  if (pool === undefined) throw new Error('no pool');
  const eps = members.map((m) => ({ nodeName: m.name, ready: true }));
  const sync = (): void => {
    for (const s of services()) {
      if (announcer.shouldAnnounce(s, eps) === null) announcer.setBalancer(s.key, s.ips, pool);
      else announcer.deleteBalancer(s.key);
    }
  };
  announcer.onInvalidate(() => setImmediate(sync));
  await membership.start();
  sync();
  send({ t: 'ready', node: name });
  // Periodic main-thread stalls: a config reload or informer resync that blocks the event loop.
  const stallMs = Number(args['stall-ms']);
  let stalls = 0;
  if (stallMs > 0) {
    setInterval(() => {
      const end = performance.now() + stallMs;
      while (performance.now() < end) {
        // busy on purpose
      }
      stalls++;
      sync();
    }, Number(args['stall-every']) * 1000 + Math.floor(Math.random() * 1000));
  }
  // The worker posts a fresh view every 250 ms and its lag is the worst of the last second: sampling at
  // 250 ms sees every late tick.
  setInterval(() => {
    for (const m of membership.view().members) if (m.status === 'self') maxLag = Math.max(maxLag, m.lag);
  }, 250);
  setInterval(() => {
    const v = membership.view();
    for (const m of v.members) if (m.status === 'self') maxLag = Math.max(maxLag, m.lag);
    send({ t: 'stats', node: name, maxLag, drops: { ...v.drops }, stalls, at: Date.now() });
    maxLag = 0; // per report period, so start-up does not mask the steady state
  }, 2000);
  process.on('message', (m: unknown) => {
    if (m === 'stop') {
      void announcer.stop().finally(() => process.exit(0));
    }
  });
}


function startLoad(): { stop(): void; what: string } {
  if (args['no-load']) return { stop: () => undefined, what: 'none' };
  const cores = os.availableParallelism();
  const haveStress = spawnSync('sh', ['-c', 'command -v stress-ng'], { encoding: 'utf8' }).status === 0;
  const procs: ChildProcess[] = [];
  if (haveStress) {
    procs.push(spawn('stress-ng', ['--cpu', String(cores), '--quiet'], { stdio: 'ignore' }));
  } else {
    for (let i = 0; i < cores; i++) procs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  }
  return {
    what: haveStress ? `stress-ng --cpu ${cores}` : `${cores} busy loops (stress-ng not installed)`,
    stop: () => {
      for (const p of procs) if (p.pid !== undefined && p.exitCode === null) p.kill('SIGKILL');
    },
  };
}

async function parent(): Promise<void> {
  const durationMs = Number(args.duration) * 1000;
  const ports = await freeUdpPorts(N);
  const key = randomBytes(32).toString('hex');
  const self = fileURLToPath(import.meta.url);
  const owners = new Map<string, string>(); // ip → node that answers
  const owned = new Map<string, Set<string>>(); // node → ips
  let converged = false;
  let moves = 0;
  let falseDowns = 0;
  let doubles = 0;
  const stats = new Map<string, ChildMsg & { t: 'stats' }>();
  const t0 = Date.now();
  const ts = (at: number): string => `+${((at - t0) / 1000).toFixed(1)}s`;
  const children: ChildProcess[] = [];
  let ready = 0;
  const load = startLoad();
  process.stdout.write(`l2 soak: ${N} speakers, ${IPS} IPs, ${args.duration} s, heartbeat ${args.interval} ms, dead after ${args['dead-after']} ms, ` +
    `main-thread stalls ${args['stall-ms']} ms every ~${args['stall-every']} s, load: ${load.what}\n`);
  const cleanup = (): void => {
    load.stop();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  for (let i = 0; i < N; i++) {
    const c = fork(self, ['--child', `soak-${i}`, '--ports', ports.join(','), '--key', key, '--interval', String(args.interval), '--dead-after', String(args['dead-after']), '--stall-ms', String(args['stall-ms']), '--stall-every', String(args['stall-every']), '--ips', String(IPS)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(c);
    c.on('message', (m: ChildMsg) => {
      if (m.t === 'ready') ready++;
      else if (m.t === 'reannounce') process.stdout.write(`${ts(m.at)} ${m.node} won a conflict, re-announces ${m.ips.join(' ')}\n`);
      else if (m.t === 'stats') {
        const prev = stats.get(m.node);
        // After convergence keep the worst period; before it, only the latest (start-up is not measured).
        stats.set(m.node, converged && prev !== undefined ? { ...m, maxLag: Math.max(prev.maxLag, m.maxLag) } : m);
      }
      else if (m.t === 'down') {
        if (converged) falseDowns++;
        process.stdout.write(`${ts(m.at)} ${m.node} declared ${m.member} ${m.reason} after ${m.silentMs.toFixed(0)} ms silence${converged ? '  <-- FALSE ALARM' : ' (start-up or shutdown)'}\n`);
      } else if (m.t === 'owned') {
        const prev = owned.get(m.node) ?? new Set();
        const next = new Set(m.ips);
        owned.set(m.node, next);
        for (const ip of next) {
          if (prev.has(ip)) continue;
          const was = owners.get(ip);
          if (converged && was !== undefined && was !== m.node && owned.get(was)?.has(ip)) {
            doubles++;
            process.stdout.write(`${ts(m.at)} ${ip} answered by ${was} AND ${m.node}  <-- DOUBLE\n`);
          }
          if (converged) {
            moves++;
            process.stdout.write(`${ts(m.at)} ${ip}: ${was ?? '-'} -> ${m.node}  <-- MOVE\n`);
          }
          owners.set(ip, m.node);
        }
        for (const ip of prev) if (!next.has(ip) && converged) process.stdout.write(`${ts(m.at)} ${m.node} withdrew ${ip}\n`);
      }
    });
  }
  while (ready < N) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000));
  converged = true;
  for (const [n, st] of stats) stats.set(n, { ...st, maxLag: 0 });
  const per = [...owned.entries()].map(([n, s]) => `${n}=${s.size}`).sort().join(' ');
  process.stdout.write(`${ts(Date.now())} converged: ${owners.size}/${IPS} IPs owned (${per}); counting from now\n`);
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10_000));
    const lag = [...stats.values()].map((s) => `${s.node} lag≤${s.maxLag.toFixed(0)}ms stalls=${s.stalls}`).join(', ');
    process.stdout.write(`${ts(Date.now())} moves=${moves} falseDead=${falseDowns} double=${doubles} | ${lag}\n`);
  }
  // The shutdown's leave packets are not false alarms: stop counting first.
  converged = false;
  load.stop();
  for (const c of children) c.send('stop');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  const drops = [...stats.values()].reduce((n, s) => n + Object.values(s.drops).reduce((a, b) => a + b, 0), 0);
  const stallsTotal = [...stats.values()].reduce((n, s) => n + s.stalls, 0);
  const maxLag = Math.max(0, ...[...stats.values()].map((s) => s.maxLag));
  process.stdout.write(
    `\nRESULT ${N} speakers, ${IPS} IPs, ${(durationMs / 1000).toFixed(0)} s under ${load.what}, ${stallsTotal} main-thread stalls of ${args['stall-ms']} ms: ` +
      `ownership changes ${moves}, false dead declarations ${falseDowns}, double answers ${doubles}, dropped packets ${drops}, max heartbeat timer lag after convergence ${maxLag.toFixed(0)} ms\n`,
  );
  cleanup();
  process.exit(moves === 0 && falseDowns === 0 && doubles === 0 ? 0 : 1);
}

if (args.child !== undefined) {
  child(args.child).catch((err: unknown) => {
    process.stderr.write(`soak child ${args.child}: ${String(err)}\n`);
    process.exit(2);
  });
} else {
  parent().catch((err: unknown) => {
    process.stderr.write(`soak: ${String(err)}\n`);
    process.exit(2);
  });
}
