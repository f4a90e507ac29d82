// `ingot config validate FILE [-o json]` (contract: ../shared/spec/cli.md). The only I/O of the config
// feature lives here: read the file, hand the text to the pure parser, map the result to exit codes
// 0 (valid), 1 (invalid: one `error:` line on stderr), 2 (usage error or unreadable file).
// `-o json` prints peers' TCP-MD5 passwords as "<redacted>" unless --show-secrets: the output ends up in
// terminals, CI logs and tickets.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseConfig, toNormalizedJSON, type Config } from '../config/index.js';

/** What a set password is printed as without --show-secrets. */
export const REDACTED = '<redacted>';

/** The config with every set password replaced by REDACTED (unset ones stay null: that is not a secret). */
export function redactSecrets(config: Config): Config {
  return { ...config, peers: config.peers.map((p) => (p.password === null ? p : { ...p, password: REDACTED })) };
}

/** Pure core of the command, for reuse (e.g. by `plan`) and tests: returns what to print and the exit code. */
export function validateConfigText(
  text: string,
  output: 'json' | undefined,
  opts: { showSecrets?: boolean } = {},
): { code: 0 | 1; stdout: string; stderr: string } {
  const r = parseConfig(text);
  if (!r.ok) return { code: 1, stdout: '', stderr: `error: ${oneLine(r.error)}\n` };
  const config = opts.showSecrets === true ? r.config : redactSecrets(r.config);
  return { code: 0, stdout: output === 'json' ? toNormalizedJSON(config) : '', stderr: '' };
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
    .option('--show-secrets', 'print peer passwords in the JSON output (default: "<redacted>")')
    .action((file: string, opts: { output?: string; showSecrets?: boolean }) => {
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
      const r = validateConfigText(text, opts.output === 'json' ? 'json' : undefined, { showSecrets: opts.showSecrets === true });
      if (r.stdout !== '') process.stdout.write(r.stdout);
      if (r.stderr !== '') process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
