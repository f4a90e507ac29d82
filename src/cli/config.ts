// `ingot config validate FILE [-o json]` (contract: ../shared/spec/cli.md). The only I/O of the config
// feature lives here: read the file, hand the text to the pure parser, map the result to exit codes
// 0 (valid), 1 (invalid: one `error:` line on stderr), 2 (usage error or unreadable file).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConfig, toNormalizedJSON } from '../config/index.js';

/** Pure core of the command, for reuse (e.g. by `plan`) and tests: returns what to print and the exit code. */
export function validateConfigText(text: string, output: 'json' | undefined): { code: 0 | 1; stdout: string; stderr: string } {
  const r = parseConfig(text);
  if (!r.ok) return { code: 1, stdout: '', stderr: `error: ${oneLine(r.error)}\n` };
  return { code: 0, stdout: output === 'json' ? toNormalizedJSON(r.config) : '', stderr: '' };
}

// The contract promises exactly one line on stderr.
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('work with MetalLB-format configuration');
  config
    .command('validate')
    .description('validate a MetalLB ConfigMap (or the raw config under data.config)')
    .argument('<file>', 'the config file; - reads standard input (e.g. kubectl get configmap -o yaml | ingot config validate -)')
    .option('-o, --output <format>', 'output format: json')
    .action((file: string, opts: { output?: string }) => {
      if (opts.output !== undefined && opts.output !== 'json') {
        process.stderr.write(`error: unknown output format ${JSON.stringify(opts.output)} (want: json)\n`);
        process.exitCode = 2;
        return;
      }
      let text: string;
      try {
        // fd 0 for "-": a pipe from kubectl is the usual way to check what a cluster runs.
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        const reason = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
        process.stderr.write(`error: cannot read ${file === '-' ? 'standard input' : file}: ${reason}\n`);
        process.exitCode = 2;
        return;
      }
      const r = validateConfigText(text, opts.output === 'json' ? 'json' : undefined);
      if (r.stdout !== '') process.stdout.write(r.stdout);
      if (r.stderr !== '') process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
