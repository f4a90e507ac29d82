import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { humanDuration, lastErrorText, reasonText, renderStatus, statusCommand } from '../../../src/cli/status.js';

const SPEAKER_STATUS = {
  node: 'node-a',
  uptimeSeconds: 3725,
  listen: { address: '0.0.0.0', port: 179 },
  sessions: [
    {
      peer: '192.168.129.254:179',
      myASN: 65002,
      peerASN: 65001,
      state: 'Established',
      uptimeSeconds: 125,
      prefixes: { desired: 3, sent: 3, pending: 0, unsendable: [] },
      lastError: null,
      lastDown: { event: 'HoldTimerExpires', state: 'Established', notification: { direction: 'sent', code: 4, subcode: 0, name: 'Hold Timer Expired', message: null } },
      socketError: null,
    },
    {
      peer: '192.168.129.253:179',
      myASN: 65002,
      peerASN: 65001,
      state: 'Active',
      uptimeSeconds: null,
      prefixes: { desired: 3, sent: 0, pending: 3, unsendable: [] },
      lastError: { event: 'NotifMsg', state: 'OpenConfirm', notification: { direction: 'received', code: 6, subcode: 2, name: 'Cease/Administrative Shutdown', message: 'maintenance' } },
      socketError: null,
    },
  ],
  announcements: [
    { service: 'default/web', ips: ['192.168.131.0'], protocol: 'bgp', reason: null },
    { service: 'shop/checkout', ips: ['192.168.131.1'], protocol: 'bgp', reason: 'noLocalEndpoints' },
  ],
  staleFiles: { '/etc/ingot/cluster.yaml': 'object #3 (Service a/b): spec.ports[0].port: want an integer 1-65535, got "x"' },
};

async function serve(body: string, code = 200): Promise<{ server: Server; addr: string }> {
  const server = createServer((_req, res) => {
    res.statusCode = code;
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, addr: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('ingot status', () => {
  test('renders a speaker: sessions with the last error in words, reasons in words, stale files', () => {
    const out = renderStatus(SPEAKER_STATUS);
    assert.match(out, /^node node-a, up 1h02m, BGP listening on 0\.0\.0\.0:179$/m);
    assert.match(out, /192\.168\.129\.254:179\s+65002→65001\s+Established\s+2m05s\s+3\/3\s+sent NOTIFICATION Hold Timer Expired \(in Established\)/);
    assert.match(out, /received NOTIFICATION Cease\/Administrative Shutdown: "maintenance" \(in OpenConfirm\)/);
    assert.match(out, /Services \(1 announced from this node, 2 in all\)/);
    assert.match(out, /shop\/checkout\s+192\.168\.131\.1\s+bgp\s+noLocalEndpoints: externalTrafficPolicy Local and no ready endpoint on this node/);
    assert.match(out, /Files not applied/);
  });

  test('renders a controller and Layer 2 sections, ignores unknown keys', () => {
    const out = renderStatus({
      component: 'controller',
      identity: 'ctl-b',
      leader: { holder: 'ctl-a', isLeader: false },
      config: { loaded: true, stale: true, error: 'parsing address pool #1: bad' },
      pools: [{ pool: 'default', family: 'ipv4', inUse: 2, capacity: 256 }],
      layer2: { ips: [{ ip: '192.168.129.200', owner: 'node-b', eligible: ['node-a', 'node-b'], service: 'default/l2' }], members: [{ name: 'node-a', address: '10.0.0.1', alive: true, lastHeardMs: 40 }] },
      somethingNew: { x: 1 },
    });
    assert.match(out, /Leader: ctl-a \(this replica is ctl-b\)/);
    assert.match(out, /Config: STALE \(the last good config is in force\)\n {2}error: parsing address pool #1: bad/);
    assert.match(out, /default\s+ipv4\s+2\s+256/);
    assert.match(out, /192\.168\.129\.200\s+node-b\s+node-a,node-b\s+default\/l2/);
    assert.match(out, /node-a\s+10\.0\.0\.1\s+alive\s+40 ms ago/);
    assert.doesNotMatch(out, /somethingNew/);
  });

  test('helpers', () => {
    assert.equal(humanDuration(0), '0s');
    assert.equal(humanDuration(90061), '1d1h');
    assert.equal(humanDuration(null), '-');
    assert.equal(reasonText(null), 'announced');
    assert.equal(reasonText('somethingElse'), 'somethingElse');
    assert.equal(lastErrorText({ event: 'TcpConnectionFails', state: 'Connect', notification: null }), 'TcpConnectionFails in Connect');
  });

  test('reads /status over HTTP; json passes through; errors name the address', async () => {
    const { server, addr } = await serve(JSON.stringify(SPEAKER_STATUS));
    try {
      const text = await statusCommand(addr, 'text');
      assert.equal(text.code, 0);
      assert.match(text.stdout, /BGP sessions \(2\)/);
      const json = await statusCommand(addr, 'json');
      assert.deepEqual(JSON.parse(json.stdout), SPEAKER_STATUS);
    } finally {
      server.close();
    }
    const forbidden = await serve('status is served to loopback only', 403);
    try {
      const r = await statusCommand(forbidden.addr, 'text');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /answered 403: status is served to loopback only/);
    } finally {
      forbidden.server.close();
    }
    const closed = await statusCommand(addr, 'text', 2000);
    assert.equal(closed.code, 2);
    assert.match(closed.stderr, new RegExp(`cannot read http://${addr.replace(/\./g, '\\.')}/status`));
    assert.equal((await statusCommand('::1:7472', 'text')).code, 2);
  });
});
