// createLayer2Announcer's failure paths (no worker is started: they fail before the liveness protocol) and the
// pure helpers both speaker modes use to turn Nodes into liveness members.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAgent } from '../../../src/agent/agent.js';
import { parseConfig } from '../../../src/config/index.js';
import { LAYER2_UNAVAILABLE, Layer2Unavailable, createLayer2Announcer, internalIp, membersFromNodes } from '../../../src/l2/create.js';
import { explainL2Error } from '../../../src/l2/transport.js';
import { FakeL2Transport } from '../../helpers/l2-transport.js';

const KEY = Buffer.from('0123456789abcdef0123');

describe('createLayer2Announcer', () => {
  it('no CAP_NET_RAW: a Layer2Unavailable announcer whose status says why (BGP is unaffected)', async () => {
    const t = new FakeL2Transport();
    t.openError = explainL2Error(Object.assign(new Error('socket: Operation not permitted'), { code: 'EPERM' }), 'opening an AF_PACKET socket');
    const r = await createLayer2Announcer({ nodeName: 'n1', members: [], key: KEY, bindAddress: '127.0.0.1', transport: t });
    assert.ok(r.announcer instanceof Layer2Unavailable);
    assert.match(r.error ?? '', /^Layer 2 needs CAP_NET_RAW: /);
    assert.deepEqual((r.announcer.status() as { error: string }).error, r.error);
  });

  it('a short key is refused with the length named', async () => {
    const r = await createLayer2Announcer({ nodeName: 'n1', members: [], key: Buffer.from('short'), bindAddress: '127.0.0.1', transport: new FakeL2Transport() });
    assert.match(r.error ?? '', /memberlist secret key has 5 bytes; at least 16 are required/);
  });

  it('Layer2Unavailable: layer2 Services get the shared reasons first, then layer2Unavailable', () => {
    const cfg = parseConfig('address-pools:\n- {name: l, protocol: layer2, addresses: [10.2.0.0/24]}\n');
    if (!cfg.ok) assert.fail(cfg.error);
    const agent = new NodeAgent({ nodeName: 'n1', announcers: [new Layer2Unavailable('n1', 'no key')] });
    agent.setConfig(cfg.config);
    agent.upsertService({ key: 'ns/a', type: 'LoadBalancer', ips: ['10.2.0.1'], externalTrafficPolicy: 'Cluster' });
    assert.equal(agent.announcements()[0]?.reason, 'noEndpoints');
    agent.setEndpoints('ns/a', [{ nodeName: 'n2', ready: true }]);
    assert.equal(agent.announcements()[0]?.reason, LAYER2_UNAVAILABLE);
  });
});

describe('membersFromNodes / internalIp', () => {
  const nodes = [
    { name: 'c', addresses: [{ type: 'InternalIP', address: '10.0.0.3' }, { type: 'InternalIP', address: 'fd00::3' }] },
    { name: 'a', addresses: [{ type: 'ExternalIP', address: '203.0.113.1' }, { type: 'InternalIP', address: '10.0.0.1' }] },
    { name: 'b', addresses: [{ type: 'Hostname', address: 'b' }] },
    { name: 'd', addresses: [{ type: 'InternalIP', address: 'fd00::4' }] },
  ];

  it('InternalIP of the socket family, sorted by name; nodes without one are listed', () => {
    assert.deepEqual(membersFromNodes(nodes, 4), {
      members: [
        { name: 'a', address: '10.0.0.1' },
        { name: 'c', address: '10.0.0.3' },
      ],
      skipped: ['b', 'd'],
    });
    assert.deepEqual(membersFromNodes(nodes, 6), {
      members: [
        { name: 'c', address: 'fd00::3' },
        { name: 'd', address: 'fd00::4' },
      ],
      skipped: ['a', 'b'],
    });
  });

  it('internalIp prefers IPv4 when no family is asked', () => {
    assert.equal(internalIp(nodes[0]!), '10.0.0.3');
    assert.equal(internalIp(nodes[3]!), 'fd00::4');
    assert.equal(internalIp(nodes[2]!), null);
  });
});
