// node:test reporter that prints only the plain closing line `N passed, N failed, N skipped`.
// It reads the runner's top-level diagnostics (tests/pass/fail/cancelled/skipped/todo), so the numbers are
// the runner's own, not a recount. Cancelled tests count as failed: a cancelled test did not pass.
export default async function* summary(source) {
  const counts = {};
  for await (const event of source) {
    if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(event.data.message);
      if (m) counts[m[1]] = Number(m[2]);
    }
  }
  const failed = (counts.fail ?? 0) + (counts.cancelled ?? 0);
  const skipped = (counts.skipped ?? 0) + (counts.todo ?? 0);
  yield `${counts.pass ?? 0} passed, ${failed} failed, ${skipped} skipped\n`;
}
