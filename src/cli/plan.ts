// `ingot plan --config FILE --cluster FILE [--node NAME] [-o json|text]` — filled in by issue 3.
import type { Command } from 'commander';

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('print what the controller would allocate and what each node would announce')
    .requiredOption('--config <file>', 'MetalLB config (raw or ConfigMap)')
    .requiredOption('--cluster <file>', 'Kubernetes objects (Services, EndpointSlices, Nodes)')
    .option('--node <name>', 'only this node')
    .option('-o, --output <format>', 'json or text', 'text')
    .action(() => {
      process.stderr.write('error: plan is not implemented yet\n');
      process.exitCode = 2;
    });
}
