// `ingot plan --config FILE --cluster FILE [--node NAME] [-o json|text]` (contract: ../shared/spec/cli.md).
// Only I/O and exit codes live here; the planning is src/plan (pure). Exit codes: 0 planned (Services whose
// allocation failed are part of the plan, with their `error`), 1 invalid config (one `error:` line, as
// `config validate` prints it), 2 usage error, unreadable file or malformed cluster file.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConfig } from '../config/index.js';
import { parseCluster } from '../plan/cluster.js';
import { planCluster, planToJSON, planToText } from '../plan/plan.js';

export interface PlanCommandResult {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/** Pure core of the command (files already read), for tests and for the standalone speaker. */
export function planTexts(
  configText: string,
  clusterText: string,
  opts: { output: 'json' | 'text'; node: string | null; clusterName: string; lbClass?: string | null },
): PlanCommandResult {
  const cfg = parseConfig(configText);
  if (!cfg.ok) return { code: 1, stdout: '', stderr: `error: ${oneLine(cfg.error)}\n` };
  const cl = parseCluster(clusterText);
  if (!cl.ok) return { code: 2, stdout: '', stderr: `error: cluster file ${opts.clusterName}: ${oneLine(cl.error)}\n` };
  const plan = planCluster(cfg.config, cl.cluster, { node: opts.node, lbClass: opts.lbClass ?? null });
  return { code: 0, stdout: opts.output === 'json' ? planToJSON(plan) : planToText(plan), stderr: '' };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

function readText(file: string): { ok: true; text: string } | { ok: false; error: string } {
  try {
    return { ok: true, text: readFileSync(file, 'utf8') };
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    return { ok: false, error: `error: cannot read ${file}: ${reason}\n` };
  }
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('print what the controller would allocate and what each node would announce')
    .requiredOption('--config <file>', 'MetalLB config (raw or ConfigMap)')
    .requiredOption('--cluster <file>', 'Kubernetes objects (Services, EndpointSlices, Nodes)')
    .option('--node <name>', 'only this node')
    .option('--lb-class <name>', 'handle only Services of this spec.loadBalancerClass (default: only Services without a class)')
    .option('-o, --output <format>', 'json or text', 'text')
    .action((opts: { config: string; cluster: string; node?: string; output: string; lbClass?: string }) => {
      if (opts.output !== 'json' && opts.output !== 'text') {
        process.stderr.write(`error: unknown output format ${JSON.stringify(opts.output)} (want: json or text)\n`);
        process.exitCode = 2;
        return;
      }
      const config = readText(opts.config);
      if (!config.ok) {
        process.stderr.write(config.error);
        process.exitCode = 2;
        return;
      }
      const cluster = readText(opts.cluster);
      if (!cluster.ok) {
        process.stderr.write(cluster.error);
        process.exitCode = 2;
        return;
      }
      const r = planTexts(config.text, cluster.text, { output: opts.output, node: opts.node ?? null, clusterName: opts.cluster, lbClass: opts.lbClass ?? null });
      if (r.stdout !== '') process.stdout.write(r.stdout);
      if (r.stderr !== '') process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
