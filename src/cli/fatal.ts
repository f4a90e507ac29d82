// The last-resort guard of the long-running commands (speaker in both modes, controller): an error nothing
// caught (`uncaughtException`, `unhandledRejection`) is a bug that leaves the process in an unknown state. It
// is logged with its stack (`fatalError`), the component shuts down the way a peer or the cluster expects
// (the speaker: Cease / Administrative Shutdown to every peer; the controller: stop writing, release the
// Lease), bounded by `timeoutMs`, and the process exits 1 so that its supervisor starts a clean one. Never
// half-alive with sessions or a Lease the others believe are healthy.
import type { Logger } from '../log.js';

/** Installs the guard; returns the function that removes it. */
export function installFatalGuard(log: Logger, stop: () => Promise<unknown>, timeoutMs: number, onFatal?: () => void): () => void {
  let fatal = false;
  const handler = (kind: string) => (e: unknown) => {
    log.error('fatalError', { kind, error: e });
    if (fatal) return;
    fatal = true;
    const exit = () => process.exit(1);
    setTimeout(exit, timeoutMs + 500).unref();
    try {
      onFatal?.();
    } catch {
      // Already failing: the clean stop below matters more.
    }
    Promise.resolve()
      .then(stop)
      .catch((err: unknown) => log.error('shutdownError', { error: err }))
      .finally(exit);
  };
  const onUncaught = handler('uncaughtException');
  const onUnhandled = handler('unhandledRejection');
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  return () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  };
}
