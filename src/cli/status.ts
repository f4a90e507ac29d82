// `ingot status [--addr HOST:PORT] [-o json|text]`: reads a running speaker's or controller's /status and
// prints it for a person (the lab's step 5, and the first command of troubleshooting). The renderer is pure
// (renderStatus) and tolerant: it shows the sections it knows (sessions, announcements, Layer 2 ownership,
// controller leader and config state) and ignores the rest, so an older or newer component still reads.
// Exit codes: 0 printed, 1 the component answered with an error, 2 usage error or nothing listening.
import type { Command } from 'commander';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown, dflt = '-'): string {
  if (v === null || v === undefined || v === '') return dflt;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** Seconds as "3d4h", "2h05m", "4m10s", "12s". */
export function humanDuration(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** Why a Service is not announced from this node, in words (reasons: src/announce, src/agent, src/l2). */
const REASONS: Readonly<Record<string, string>> = {
  notLoadBalancer: 'not a LoadBalancer Service',
  noIPAllocated: 'no IP in status.loadBalancer.ingress yet (the controller has not assigned one)',
  invalidIP: 'the status IP does not parse',
  ipNotAllowed: "the IP lies in no pool of this speaker's config",
  noLocalEndpoints: 'externalTrafficPolicy Local and no ready endpoint on this node',
  noEndpoints: 'no ready endpoint anywhere in the cluster',
  nodeExcluded: 'this node has the label node.kubernetes.io/exclude-from-external-load-balancers',
  noPeers: "BGP pool, but no peer's node-selectors select this node",
  mixedProtocols: 'the IPs lie in pools of different protocols',
  layer2Unavailable: 'Layer 2 cannot run on this node (see the Layer 2 error below)',
  notOwner: 'layer2: another node owns this IP',
  membershipNotReady: 'layer2: still learning the other speakers\' claims (start-up)',
  loadBalancerClass: 'spec.loadBalancerClass names another implementation',
};

export function reasonText(reason: unknown): string {
  if (reason === null || reason === undefined) return 'announced';
  const r = str(reason);
  const words = REASONS[r];
  return words === undefined ? r : `${r}: ${words}`;
}

/** A session's last error as a sentence: the NOTIFICATION (direction, name, shutdown message) or the event. */
export function lastErrorText(le: unknown): string {
  if (!isObj(le)) return '-';
  const n = le['notification'];
  if (isObj(n)) {
    const dir = n['direction'] === 'received' ? 'received' : 'sent';
    const msg = typeof n['message'] === 'string' && n['message'] !== '' ? `: "${n['message']}"` : '';
    return `${dir} NOTIFICATION ${str(n['name'], `${str(n['code'])}/${str(n['subcode'])}`)}${msg} (in ${str(le['state'])})`;
  }
  return `${str(le['event'])} in ${str(le['state'])}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function sessionsSection(sessions: unknown[]): string {
  const rows = sessions.filter(isObj).map((s) => {
    const prefixes = isObj(s['prefixes']) ? s['prefixes'] : {};
    const err = s['socketError'] ? `socket: ${str(s['socketError'])}` : lastErrorText(s['lastError'] ?? s['lastDown']);
    return [
      str(s['peer']),
      `${str(s['myASN'])}→${str(s['peerASN'])}`,
      str(s['state']),
      humanDuration(s['uptimeSeconds']),
      `${str(prefixes['sent'], '0')}/${str(prefixes['desired'], '0')}`,
      err,
    ];
  });
  return `BGP sessions (${rows.length})\n${rows.length === 0 ? '  none configured for this node' : table(['PEER', 'AS', 'STATE', 'UP', 'SENT/WANTED', 'LAST ERROR'], rows)}`;
}

function announcementsSection(list: unknown[]): string {
  const rows = list.filter(isObj).map((a) => [
    str(a['service']),
    arr(a['ips']).map((x) => str(x)).join(',') || '-',
    str(a['protocol']),
    reasonText(a['reason']),
  ]);
  const n = rows.filter((r) => r[3] === 'announced').length;
  return `Services (${n} announced from this node, ${rows.length} in all)\n${rows.length === 0 ? '  none' : table(['SERVICE', 'IPS', 'PROTOCOL', 'STATUS'], rows)}`;
}

function layer2Section(l2: Obj): string {
  const out: string[] = [];
  if (l2['error'] !== undefined && l2['error'] !== null) out.push(`Layer 2: not running on this node\n  error: ${str(l2['error'])}`);
  const ips = arr(l2['ips'] ?? l2['ownership']);
  const rows = ips.filter(isObj).map((e) => [str(e['ip']), str(e['owner']), arr(e['eligible']).map((x) => str(x)).join(',') || '-', str(e['service'] ?? arr(e['services']).join(','))]);
  out.push(`Layer 2 ownership (${rows.length} IPs)\n${rows.length === 0 ? '  none' : table(['IP', 'OWNER', 'ELIGIBLE', 'SERVICE'], rows)}`);
  const members = arr(l2['members']).filter(isObj);
  if (members.length > 0) {
    const mrows = members.map((m) => [
      str(m['name']),
      str(m['address']),
      m['status'] === 'self' ? 'self' : m['alive'] === false ? 'dead' : 'alive',
      m['status'] === 'self' ? '-' : m['lastHeardMs'] === undefined || m['lastHeardMs'] === null ? str(m['lastHeard'], 'never') : `${str(m['lastHeardMs'])} ms ago`,
    ]);
    out.push(`Members (${members.length})\n${table(['NODE', 'ADDRESS', 'STATE', 'LAST HEARD'], mrows)}`);
  }
  return out.join('\n\n');
}

function controllerSection(s: Obj): string {
  const out: string[] = [];
  const leader = s['leader'];
  if (leader !== undefined) {
    const l = isObj(leader) ? leader : { holder: leader };
    out.push(`Leader: ${str(l['holder'] ?? l['identity'])}${l['isLeader'] === true ? ' (this replica)' : l['isLeader'] === false ? ` (this replica is ${str(s['identity'] ?? l['self'])})` : ''}`);
  }
  const cfg = s['config'];
  if (isObj(cfg)) {
    const state = cfg['stale'] === true ? 'STALE (the last good config is in force)' : cfg['loaded'] === true ? 'loaded' : 'not loaded yet';
    out.push(`Config: ${state}${cfg['error'] ? `\n  error: ${str(cfg['error'])}` : ''}`);
  }
  const pools = arr(s['pools']).filter(isObj);
  if (pools.length > 0) {
    const rows = pools.map((p) => [str(p['pool']), str(p['family']), str(p['inUse']), str(p['capacity'])]);
    out.push(`Pools\n${table(['POOL', 'FAMILY', 'IN USE', 'CAPACITY'], rows)}`);
  }
  return out.join('\n\n');
}

/** The /status JSON of a speaker or a controller, for a person. */
export function renderStatus(s: unknown): string {
  if (!isObj(s)) return `${JSON.stringify(s)}\n`;
  const parts: string[] = [];
  const head: string[] = [];
  if (s['component'] !== undefined) head.push(`${str(s['component'])}`);
  if (s['node'] !== undefined) head.push(`node ${str(s['node'])}`);
  if (s['uptimeSeconds'] !== undefined) head.push(`up ${humanDuration(s['uptimeSeconds'])}`);
  if (isObj(s['listen'])) head.push(`BGP listening on ${str(s['listen']['address'])}:${str(s['listen']['port'])}`);
  if (head.length > 0) parts.push(head.join(', '));
  if (s['leader'] !== undefined || s['pools'] !== undefined) parts.push(controllerSection(s));
  if (Array.isArray(s['sessions'])) parts.push(sessionsSection(s['sessions']));
  if (Array.isArray(s['announcements'])) parts.push(announcementsSection(s['announcements']));
  if (isObj(s['layer2'])) parts.push(layer2Section(s['layer2']));
  const stale = s['staleFiles'];
  if (isObj(stale) && Object.keys(stale).length > 0) {
    parts.push(`Files not applied (the last good state is in force)\n${Object.entries(stale).map(([f, e]) => `  ${f}: ${str(e)}`).join('\n')}`);
  }
  return `${parts.join('\n\n')}\n`;
}

export interface StatusCommandResult {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fetches http://ADDR/status and renders it. */
export async function statusCommand(addr: string, output: 'json' | 'text', timeoutMs = 5000): Promise<StatusCommandResult> {
  if ((addr.match(/:/g) ?? []).length > 1 && !addr.startsWith('[')) return { code: 2, stdout: '', stderr: `error: --addr ${JSON.stringify(addr)}: write an IPv6 address in brackets, [::1]:7472\n` };
  const url = `http://${addr}/status`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    return { code: 2, stdout: '', stderr: `error: cannot read ${url}: ${cause} (is ingot running, and is --metrics-addr ${addr}?)\n` };
  }
  const body = await res.text();
  if (!res.ok) return { code: 1, stdout: '', stderr: `error: ${url} answered ${res.status}: ${body.trim()}\n` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { code: 1, stdout: '', stderr: `error: ${url} did not answer JSON\n` };
  }
  return { code: 0, stdout: output === 'json' ? `${JSON.stringify(parsed, null, 2)}\n` : renderStatus(parsed), stderr: '' };
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("print a running speaker's or controller's /status for a person")
    .option('--addr <host:port>', 'where the component serves /status (its --metrics-addr, reached from loopback)', '127.0.0.1:7472')
    .option('-o, --output <format>', 'json or text', 'text')
    .action(async (opts: { addr: string; output: string }) => {
      if (opts.output !== 'json' && opts.output !== 'text') {
        process.stderr.write(`error: unknown output format ${JSON.stringify(opts.output)} (want: json or text)\n`);
        process.exitCode = 2;
        return;
      }
      const r = await statusCommand(opts.addr, opts.output);
      if (r.stdout !== '') process.stdout.write(r.stdout);
      if (r.stderr !== '') process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
