// Worker-thread entry of the liveness protocol: runs UdpMembership (member-driver.ts) on its own event loop
// and heap, so a main thread busy with a config reload or a big informer sync neither delays heartbeats nor
// fakes the silence of others (../shared/notes/bfd.md §3.3: a 450 ms main-thread stall spread arrival gaps to
// ~500 ms; the same sender in a worker stayed at 51 ms). Protocol with member-thread.ts: see WorkerMessage.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { LogFields, Logger } from '../log.js';
import { UdpMembership, type UdpMembershipOptions } from './member-driver.js';
import type { ToWorker, FromWorker, WorkerInit } from './member-thread.js';
import type { DropReason } from './wire.js';

const port = parentPort;
if (port === null) throw new Error('member-worker.ts must run in a worker_thread');

function post(msg: FromWorker): void {
  try {
    port?.postMessage(msg);
  } catch {
    // The parent is gone or the message could not be cloned: nothing useful left to do with it.
  }
}

function plainFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v;
  return out;
}

function workerLogger(base: LogFields = {}): Logger {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (event: string, fields?: LogFields) =>
    post({ t: 'log', level, event, fields: plainFields({ ...base, ...fields }) });
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), with: (f) => workerLogger({ ...base, ...f }) };
}

const init = workerData as WorkerInit;
// Raise this thread only (pid 0 = the calling thread on Linux): the main thread and the rest of the node keep
// their priority. Without CAP_SYS_NICE this fails and the thread runs at the default priority.
const priority = init.threadPriority === undefined ? -10 : init.threadPriority;
if (priority !== null) {
  try {
    os.setPriority(0, priority);
  } catch (err) {
    post({ t: 'log', level: 'info', event: 'memberPriorityUnchanged', fields: { wanted: priority, error: err instanceof Error ? err.message : String(err) } });
  }
}
const { threadPriority: _p, refreshMs: _r, ...driverOpts } = init;
const opts: UdpMembershipOptions = { ...driverOpts, key: Buffer.from(init.key), log: workerLogger() };
const membership = new UdpMembership(opts);

// Drops are batched (a flood of forged packets must not become a flood of messages to the main thread).
let drops: Partial<Record<DropReason, number>> = {};
let dropTimer: ReturnType<typeof setTimeout> | null = null;
function flushDrops(): void {
  dropTimer = null;
  const batch = drops;
  drops = {};
  post({ t: 'drops', counts: batch });
}

membership.on({
  onChange: (view) => post({ t: 'view', view }),
  onDrop: (reason) => {
    drops[reason] = (drops[reason] ?? 0) + 1;
    dropTimer ??= setTimeout(flushDrops, 100);
  },
  onMemberUp: (name, restarted) => post({ t: 'up', name, restarted }),
  onMemberDown: (name, reason, silentMs) => post({ t: 'down', name, reason, silentMs }),
});

// A periodic snapshot keeps lastHeard in the main thread's /status fresh without a message per heartbeat.
const refresh = setInterval(() => post({ t: 'view', view: membership.view() }), init.refreshMs ?? 250);

port.on('message', (msg: ToWorker) => {
  try {
    switch (msg.t) {
      case 'start':
        membership.start().then(
          () => post({ t: 'started', view: membership.view() }),
          (err: unknown) => post({ t: 'startError', message: err instanceof Error ? err.message : String(err) }),
        );
        return;
      case 'setLocal':
        membership.setLocal(msg.local);
        return;
      case 'setMembers':
        membership.setMembers(msg.members);
        return;
      case 'sendNow':
        membership.sendNow();
        return;
      case 'stop':
        clearInterval(refresh);
        if (dropTimer !== null) clearTimeout(dropTimer);
        flushDrops();
        void membership.stop().finally(() => {
          post({ t: 'stopped' });
          port.close();
        });
        return;
    }
  } catch (err) {
    post({ t: 'log', level: 'error', event: 'memberWorkerError', fields: { message: msg.t, error: err instanceof Error ? err.message : String(err) } });
  }
});
