// `ingot controller` flag handling (exit codes as cli.md says) and `ingot status` on a controller's /status.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runIngot } from '../../helpers/cli.js';
import { renderStatus } from '../../../src/cli/status.js';
import { durationFlag } from '../../../src/cli/controller.js';
import { getJson, inProcess, service, spawnController, statusOf, tmpDir, until, writeKubeconfig } from './support.js';

describe('ingot controller: flags', () => {
  test('--help lists every flag of the contract', () => {
    const r = runIngot(['controller', '--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['--kubeconfig', '--namespace', '--config-map', '--lb-class', '--identity', '--lease-duration', '--renew-deadline', '--retry-period', '--kube-api-qps', '--kube-api-burst', '--metrics-addr', '--log-level']) {
      assert.ok(r.stdout.includes(f), `${f} missing from --help`);
    }
    assert.match(r.stdout, /0\.0\.0\.0:7472/);
    assert.match(r.stdout, /"15s"/);
  });

  const usage: Array<[string[], RegExp]> = [
    [['--lease-duration', '5s'], /--lease-duration \(5000 ms\) must be greater than --renew-deadline/],
    [['--retry-period', 'soon'], /--retry-period: time: invalid duration "soon"/],
    [['--kube-api-qps', '0'], /--kube-api-qps: want a number > 0, got 0/],
    [['--kube-api-burst', '1.5'], /--kube-api-burst: want an integer >= 1/],
    [['--metrics-addr', 'localhost:7472'], /--metrics-addr: "localhost" is not an IP address/],
    [['--log-level', 'loud'], /--log-level: want one of/],
  ];
  for (const [args, msg] of usage) {
    test(`usage error (exit 2): ${args.join(' ')}`, () => {
      const r = runIngot(['controller', '--kubeconfig', '/nonexistent', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
    });
  }
  assert.ok(usage.length > 0);

  test('a kubeconfig that cannot be read: exit 1 with the file named', () => {
    const r = runIngot(['controller', '--kubeconfig', '/nonexistent/kubeconfig', '--metrics-addr', '127.0.0.1:0']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\/nonexistent\/kubeconfig/);
  });

  test('durations are Go durations', () => {
    assert.equal(durationFlag('15s', '--x'), 15000);
    assert.equal(durationFlag('1500ms', '--x'), 1500);
    assert.equal(durationFlag('1m', '--x'), 60000);
    assert.match(String(durationFlag('0s', '--x')), /positive/);
  });
});

describe('ingot controller: an unreachable API server', () => {
  test('alive (/healthz 200) but not ready (/readyz 503); SIGTERM exits 0 at once', async () => {
    const ctl = spawnController(writeKubeconfig(tmpDir(), 'http://127.0.0.1:1'), 'lonely');
    const port = await ctl.metricsPort();
    assert.equal((await getJson(port, '/healthz')).status, 200);
    assert.equal((await getJson(port, '/readyz')).status, 503);
    const st = (await getJson(port, '/status')).body as { config: { loaded: boolean }; leader: { isLeader: boolean } };
    assert.equal(st.config.loaded, false);
    assert.equal(st.leader.isLeader, false);
    const t0 = Date.now();
    assert.equal(await ctl.terminate(), 0);
    assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
  });
});

describe('ingot status on a controller', () => {
  test('renders leader, config and pools from /status', async () => {
    const env = await inProcess({ config: 'address-pools:\n- name: lan\n  protocol: bgp\n  addresses: [10.9.0.0/30]\n', seed: [service('x')], identity: 'ctl-1' });
    await until(() => statusOf(env.server, 'x').length > 0, 'x to get an IP');
    const st = JSON.parse(JSON.stringify(env.controller.status())) as Record<string, unknown>;
    assert.equal(st.component, 'controller');
    assert.equal(st.services, 1);
    const text = renderStatus(st);
    assert.match(text, /^controller/);
    assert.match(text, /Leader: ctl-1 \(this replica\)/);
    assert.match(text, /Config: loaded/);
    assert.match(text, /lan\s+ipv4\s+1\s+4/);
  });
});
