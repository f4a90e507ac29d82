// Ingest into a real router: how long until FRR 8.4 holds N /32s announced by one speaker, for GoBGP 3 and for
// ingot on the same topology (src/lab/topology.ts: FRR with zebra in <prefix>-rtr, the speaker in
// <prefix>-n1, a bridge between them). Needs root, FRR, gobgpd; prints a Markdown table.
//
//   node --import tsx scripts/bench-ingest.ts [--runs 3] [--sizes 10000,100000] [--only gobgp,ingot,driver] [--no-zebra]
// (--no-zebra: bgpd alone, `bgpd -Z`; nothing is installed in the kernel, so the router's CPU goes to BGP only)
//
// Speakers:
//   gobgp   gobgpd in n1; routes injected through its gRPC API (AddPathStream, 1000 paths per request) by
//           test/interop/support/gobgp-api.ts. GoBGP sends API-injected paths one per UPDATE.
//           t0 = the injector's API connection is up and the first path goes (session already Established).
//   ingot   `ingot speaker` standalone in n1 with N Services in its cluster file (a /15 pool).
//           t0 = the speaker process starts (so startup, file parsing and allocation are included) and,
//           second column, t0 = FRR first reports the session Established.
//   driver  test/interop/support/scale-driver.ts: src/bgp's BgpSession + AdjRibOut with N routes, no files.
//           t0 = Established (the driver's own timestamp).
// t1 is the first poll (every 5 ms, on bgpd's vty socket) at which FRR's pfxRcd for the neighbor reaches N;
// "in FIB" is the first poll (every 20 ms, zebra) at which zebra counts N BGP routes installed.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Topology, ROUTER4, type LabNode } from '../src/lab/topology.js';
import { REPO_ROOT } from '../test/helpers/cli.js';
import { waitFor } from '../src/lab/netns.js';
import { scaleServices } from '../test/interop/support/scale.js';

interface Args {
  zebra: boolean;
  runs: number;
  sizes: number[];
  only: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { zebra: true, runs: 3, sizes: [10_000, 100_000], only: ['gobgp', 'ingot', 'driver'] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--runs') (a.runs = Number(v)), i++;
    else if (argv[i] === '--sizes') (a.sizes = v.split(',').map(Number)), i++;
    else if (argv[i] === '--only') (a.only = v.split(',')), i++;
    else if (argv[i] === '--no-zebra') a.zebra = false;
  }
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Summary {
  peers?: Record<string, { pfxRcd?: number; state?: string }>;
}

async function pfx(topo: Topology, peer: string): Promise<{ n: number; state: string }> {
  const j = await topo.frrJson<Summary>('show bgp ipv4 unicast summary json');
  const p = j.peers?.[peer];
  return { n: p?.pfxRcd ?? 0, state: p?.state ?? '?' };
}

async function fibBgp(topo: Topology): Promise<number> {
  const j = await topo.frrJson<{ routes?: Array<{ type?: string; fib?: number }> }>('show ip route summary json', 'zebra');
  return (j.routes ?? []).filter((r) => r.type === 'ebgp' || r.type === 'ibgp').reduce((s, r) => s + (r.fib ?? 0), 0);
}

/** Polls until pfxRcd reaches n; returns times (ms since epoch) of Established, first prefix, all, and all in FIB. */
async function watch(topo: Topology, peer: string, n: number, timeoutMs: number): Promise<{ est: number; first: number; all: number; fib: number }> {
  let est = 0;
  let first = 0;
  let all = 0;
  let fib = 0;
  const end = Date.now() + timeoutMs;
  let lastFibPoll = 0;
  while (Date.now() < end) {
    const now = Date.now();
    const s = await pfx(topo, peer).catch(() => ({ n: 0, state: '?' }));
    if (est === 0 && s.state === 'Established') est = now;
    if (first === 0 && s.n > 0) first = now;
    if (all === 0 && s.n >= n) all = now;
    if (all !== 0 && !topo.opts.zebra) break;
    if (all !== 0 && now - lastFibPoll >= 20) {
      lastFibPoll = now;
      if ((await fibBgp(topo)) >= n) fib = Date.now();
    }
    if (all !== 0 && fib !== 0) break;
    await sleep(all === 0 ? 5 : 20);
  }
  if (all === 0) throw new Error(`FRR did not reach ${n} prefixes from ${peer} within ${timeoutMs} ms`);
  return { est, first, all, fib };
}

async function waitEmpty(topo: Topology, peer: string): Promise<void> {
  await waitFor('FRR to drop the previous run', async () => (await pfx(topo, peer)).n === 0 && (!topo.opts.zebra || (await fibBgp(topo)) === 0), {
    timeoutMs: 120_000,
    intervalMs: 200,
  });
}

function gobgpdConf(node: LabNode, asn: number, peerAsn: number): string {
  return [
    '[global.config]',
    `  as = ${asn}`,
    `  router-id = "${node.v4}"`,
    '  port = -1',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${ROUTER4}"`,
    `    peer-as = ${peerAsn}`,
    '  [neighbors.transport.config]',
    `    local-address = "${node.v4}"`,
    '',
  ].join('\n');
}

async function runGobgp(topo: Topology, node: LabNode, n: number): Promise<Record<string, number>> {
  const conf = join(node.dir, 'gobgpd.toml');
  writeFileSync(conf, gobgpdConf(node, topo.opts.nodeAsn, topo.opts.routerAsn));
  const child = topo.lab.spawn(node.ns, 'gobgpd', ['-f', conf, '-p', '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-l', 'warn'], {
    stdio: 'ignore',
  });
  try {
    await waitFor('gobgpd session Established at FRR', async () => (await pfx(topo, node.v4)).state === 'Established', { timeoutMs: 60_000, intervalMs: 100 });
    let t0 = 0;
    const inject = topo.lab.spawn(node.ns, process.execPath, [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/interop/support/gobgp-api.ts'),
      JSON.stringify({ port: 50051, first: '198.18.0.1', count: n, nextHop: node.v4 }),
    ], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    inject.stdout!.on('data', (d: Buffer) => {
      const m = /"start":(\d+)/.exec(d.toString());
      if (m) t0 = Number(m[1]);
    });
    const w = await watch(topo, node.v4, n, 300_000);
    await new Promise((r) => (inject.exitCode !== null ? r(null) : inject.once('exit', r)));
    if (t0 === 0) throw new Error('the injector never reported its start');
    return { ms: w.all - t0, fibMs: w.fib ? w.fib - t0 : NaN };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    await waitEmpty(topo, node.v4);
  }
}

async function runIngot(topo: Topology, node: LabNode, n: number): Promise<Record<string, number>> {
  const { config, services } = scaleServices(n, topo.routerPeer({ holdTime: '90s' }));
  topo.writeConfig(config, [node]);
  topo.writeCluster(services, [node]);
  const h = topo.startSpeaker(node, { bgpListen: 'off' });
  try {
    const w = await watch(topo, node.v4, n, 300_000);
    return { ms: w.all - h.startedAt, fromEstMs: w.all - w.est, fibMs: w.fib ? w.fib - h.startedAt : NaN };
  } finally {
    await topo.stopSpeaker(node, 'SIGKILL').catch(() => undefined);
    await waitEmpty(topo, node.v4);
  }
}

async function runDriver(topo: Topology, node: LabNode, n: number): Promise<Record<string, number>> {
  const child = topo.lab.spawn(node.ns, process.execPath, [
    '--import',
    'tsx',
    join(REPO_ROOT, 'test/interop/support/scale-driver.ts'),
    JSON.stringify({ local: node.v4, peer: ROUTER4, localAs: topo.opts.nodeAsn, peerAs: topo.opts.routerAsn, count: n, first: '198.18.0.1' }),
  ], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let estAt = 0;
  child.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      const m = /"established":(\d+)/.exec(line);
      if (m) estAt = Number(m[1]);
    }
  });
  try {
    const w = await watch(topo, node.v4, n, 300_000);
    return { fromEstMs: w.all - (estAt || w.est), fibMs: w.fib ? w.fib - (estAt || w.est) : NaN };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    await waitEmpty(topo, node.v4);
  }
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const topo = new Topology('igbench', { router: 'frr', nodes: 1, ipv6: false, zebra: args.zebra });
  const onSignal = () => {
    void topo.teardown().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: string[] = [];
  try {
    if (args.only.includes('ingot')) Topology.prebuild();
    await topo.up();
    const node = topo.nodes[0]!;
    const kinds: Array<[string, (n: number) => Promise<Record<string, number>>]> = [];
    if (args.only.includes('gobgp')) kinds.push(['GoBGP 3.10 (gRPC AddPathStream → gobgpd)', (n) => runGobgp(topo, node, n)]);
    if (args.only.includes('ingot')) kinds.push(['ingot speaker (standalone, N Services)', (n) => runIngot(topo, node, n)]);
    if (args.only.includes('driver')) kinds.push(['ingot BgpSession + AdjRibOut (scale-driver)', (n) => runDriver(topo, node, n)]);
    for (const [label, fn] of kinds) {
      for (const n of args.sizes) {
        const results: Array<Record<string, number>> = [];
        for (let r = 0; r < args.runs; r++) {
          const res = await fn(n);
          process.stderr.write(`${label} N=${n} run ${r + 1}: ${JSON.stringify(res)}\n`);
          results.push(res);
        }
        const col = (k: string): string => {
          const xs = results.map((x) => x[k] ?? NaN);
          if (xs.every((x) => Number.isNaN(x))) return '–';
          return `${xs.map((x) => (Number.isNaN(x) ? '?' : Math.round(x))).join(' ')} → **${Math.round(median(xs))}**`;
        };
        rows.push(`| ${label} | ${n.toLocaleString('en-US')} | ${col('ms')} | ${col('fromEstMs')} | ${col('fibMs')} |`);
      }
    }
  } finally {
    await topo.teardown();
  }
  const cpu = execFileSync('nproc', { encoding: 'utf8' }).trim();
  process.stdout.write(
    [
      `FRR 8.4 ingest, ${cpu} CPUs, ${new Date().toISOString()} (ms; each run, then the median)`,
      '',
      '| speaker | N /32s | t0 = start → FRR has all | t0 = Established → FRR has all | → all in kernel FIB (t0 of the first filled column) |',
      '|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((e: Error) => {
  process.stderr.write(`bench-ingest: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
