// `ingot lab demo | up | down | status` (cli.md; the lab issue): the one-command demo on one Linux machine.
// The lab itself is src/lab; this file only parses flags and maps outcomes to exit codes: 0 done, 1 the lab
// failed (what failed is printed, and `demo` has removed what it built), 2 usage or a missing prerequisite.
import type { Command } from 'commander';
import { LabError, Out, labDown, labStatus, runLab } from '../lab/lab.js';

async function guarded(fn: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (e) {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof LabError ? 2 : 1;
  }
}

export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('a real router and three ingot speakers in network namespaces on this machine (root)');
  lab
    .command('demo')
    .description('build the lab, show allocation, ECMP, Local narrowing, withdrawal and status step by step, then remove it')
    .option('--no-install', 'do not install FRR with apt-get when it is missing')
    .action(async (opts: { install: boolean }) => guarded(() => runLab({ out: new Out(), keep: false, installMissing: opts.install })));
  lab
    .command('up')
    .description('build the lab, run the demo steps, and leave everything running')
    .option('--no-install', 'do not install FRR with apt-get when it is missing')
    .action(async (opts: { install: boolean }) => guarded(() => runLab({ out: new Out(), keep: true, installMissing: opts.install })));
  lab
    .command('down')
    .description('remove everything the lab made (idempotent; also after a crash or a half-built lab)')
    .action(async () => guarded(() => (labDown(new Out()), 0)));
  lab
    .command('status')
    .description('is a lab up, and what runs in it')
    .action(async () => guarded(() => labStatus(new Out())));
}
