// `ingot config validate FILE [-o json]` — filled in by the config work (issue 3).
import type { Command } from 'commander';

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('work with MetalLB-format configuration');
  config
    .command('validate')
    .description('validate a MetalLB ConfigMap (or the raw config under data.config)')
    .argument('<file>', 'the config file')
    .option('-o, --output <format>', 'output format: json')
    .action(() => {
      process.stderr.write('error: config validate is not implemented yet\n');
      process.exitCode = 2;
    });
}
