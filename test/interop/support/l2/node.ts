// Runs ingot's Layer 2 engine for the frame interop test (test/interop/l2-frames.test.ts) inside a node
// namespace, on the real addon and the real interface table. Commands arrive as JSON lines on stdin:
//   {"own": ["10.97.0.100", ...]}   → engine.setOwned(...)
//   {"status": true}                 → prints {"status": engine.status()}
//   {"stop": true}                   → engine.stop(), then exits
// Conflicts are printed as {"conflict": {...}}; {"ready": true} once the engine exists; errors as {"error": ...}.
import { createInterface } from 'node:readline';

import { systemClock } from '../../../../src/clock.js';
import { createLayer2Engine } from '../../../../src/l2/engine.js';
import { nativeTransport } from '../../../../src/l2/transport.js';
import { createLogger } from '../../../../src/log.js';

const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const opts = JSON.parse(process.argv[2] ?? '{}') as { only?: string[]; rounds?: number; intervalMs?: number };
const engine = createLayer2Engine({
  transport: nativeTransport(),
  clock: systemClock(),
  onlyInterfaces: opts.only,
  gratuitous: { rounds: opts.rounds ?? 3, intervalMs: opts.intervalMs ?? 100 },
  log: createLogger({ level: 'debug' }),
});
engine.onConflict((ip, mac, iface) => out({ conflict: { ip, mac, iface } }));
createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    const cmd = JSON.parse(line) as { own?: string[]; status?: boolean; stop?: boolean };
    if (cmd.own) {
      engine.setOwned(cmd.own);
      out({ owned: cmd.own });
    }
    if (cmd.status) out({ status: engine.status() });
    if (cmd.stop) void engine.stop().then(() => process.exit(0));
  } catch (err) {
    out({ error: (err as Error).message });
  }
});
out({ ready: true });
