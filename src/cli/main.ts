// Entry point of the `ingot` command (contract: ../shared/spec/cli.md). Each subcommand lives in its own
// module and registers itself on the program; this file only wires them and maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerConfigCommand } from './config.js';
import { registerControllerCommand } from './controller.js';
import { registerLabCommand } from './lab.js';
import { registerPlanCommand } from './plan.js';
import { registerSpeakerCommand } from './speaker.js';
import { registerStatusCommand } from './status.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('ingot')
    .description('Bare-metal Service type=LoadBalancer: MetalLB-compatible allocation and BGP/Layer 2 announcement')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    // Usage errors exit 2, as the CLI contract says; commander's default is 1.
    .exitOverride();
  registerConfigCommand(program);
  registerPlanCommand(program);
  registerSpeakerCommand(program);
  registerControllerCommand(program);
  registerStatusCommand(program);
  registerLabCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are "errors" to commander's exitOverride, with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
