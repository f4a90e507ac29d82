// The liveness protocol on real UDP sockets (127.0.0.1, one port per speaker; loopback needs no namespace and
// no root): three speakers converge, a stopped one is declared dead by the others in well under 500 ms (20
// trials, min/median/max printed for bench/README.md), and a forged or replayed datagram changes nothing and
// is counted. The membership runs in its worker thread, as in production.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { WorkerMembership } from '../../src/l2/member-thread.js';
import { UdpMembership, type MembershipView } from '../../src/l2/member-driver.js';
import type { MemberAddress } from '../../src/l2/membership.js';
import { encodePacket } from '../../src/l2/wire.js';
import { freeUdpPorts } from '../helpers/ports.js';

const KEY = randomBytes(32);


function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (pred()) return resolve(performance.now() - t0);
      if (performance.now() - t0 > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(poll, 2);
    };
    poll();
  });
}

const status = (v: MembershipView, name: string): string | undefined => v.members.find((m) => m.name === name)?.status;

describe('layer2 membership on loopback UDP', () => {
  const started: { stop(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(started.map((m) => m.stop().catch(() => undefined)));
  });

  it('converges, detects a stopped speaker in < 500 ms (20 trials), ignores forged and replayed packets', { timeout: 120_000 }, async (t) => {
    const [p1, p2, p3] = await freeUdpPorts(3);
    assert.ok(p1 !== undefined && p2 !== undefined && p3 !== undefined);
    const members: MemberAddress[] = [
      { name: 'n1', address: '127.0.0.1', port: p1 },
      { name: 'n2', address: '127.0.0.1', port: p2 },
      { name: 'n3', address: '127.0.0.1', port: p3 },
    ];
    const make = (name: string, port: number) => new WorkerMembership({ self: name, members, key: KEY, bindAddress: '127.0.0.1', port, refreshMs: 50 });
    const n1 = make('n1', p1);
    const n2 = make('n2', p2);
    started.push(n1, n2);
    await Promise.all([n1.start(), n2.start()]);
    n1.setLocal({ claims: new Map([['192.0.2.10', 1000]]), excluded: false });

    // A main thread blocked for twice the dead timeout (a big reload) does not make anyone dead: the
    // heartbeats live in the worker threads.
    const downs: string[] = [];
    n1.on({ onMemberDown: (name) => downs.push(name) });
    n2.on({ onMemberDown: (name) => downs.push(name) });
    await waitFor(() => status(n1.view(), 'n2') === 'alive' && status(n2.view(), 'n1') === 'alive', 3000, 'n1 and n2 to hear each other');
    const stallEnd = performance.now() + 600;
    while (performance.now() < stallEnd) {
      // a main-thread stall on purpose
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(downs, [], 'no false death during a 600 ms main-thread stall');
    assert.equal(status(n1.view(), 'n2'), 'alive');

    const detections: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const n3 = make('n3', p3);
      await n3.start();
      await waitFor(
        () => [n1, n2, n3].every((m) => m.view().ready) && status(n1.view(), 'n3') === 'alive' && status(n2.view(), 'n3') === 'alive' && status(n3.view(), 'n1') === 'alive' && status(n3.view(), 'n2') === 'alive',
        3000,
        'convergence',
      );
      if (trial === 0) {
        // Everyone sees n1's claim.
        await waitFor(() => n3.view().members.find((m) => m.name === 'n1')?.claims.get('192.0.2.10') === 1000, 1000, 'claims to propagate');
      }
      // Crash, not goodbye: terminate the worker without the leave packet.
      const w = (n3 as unknown as { worker: { terminate(): Promise<number> } | null }).worker;
      assert.ok(w !== null);
      const t0 = performance.now();
      (n3 as unknown as { stopping: boolean }).stopping = true;
      void w.terminate();
      await waitFor(() => status(n1.view(), 'n3') === 'dead' && status(n2.view(), 'n3') === 'dead', 2000, 'n3 declared dead');
      detections.push(performance.now() - t0);
    }
    const sorted = [...detections].sort((a, b) => a - b);
    const median = ((sorted[9] ?? 0) + (sorted[10] ?? 0)) / 2;
    const line = `layer2 member death detection over ${sorted.length} trials (loopback, 50 ms heartbeats, 300 ms dead): min ${sorted[0]?.toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms`;
    t.diagnostic(line);
    assert.equal(sorted.length, 20);
    assert.ok((sorted.at(-1) ?? Infinity) < 500, line);
    assert.ok((sorted[0] ?? 0) >= 200, `detection faster than the dead timeout allows: ${line}`);

    // A graceful stop sends leave: the others react at once.
    const n3 = make('n3', p3);
    await n3.start();
    await waitFor(() => status(n1.view(), 'n3') === 'alive', 3000, 'n3 back');
    const t0 = performance.now();
    await n3.stop();
    await waitFor(() => status(n1.view(), 'n3') === 'left', 1000, 'n3 left');
    assert.ok(performance.now() - t0 < 200, 'leave is acted on without waiting for the timeout');

    // Forged (wrong key) and replayed packets: nothing changes, both are counted.
    const attacker = dgram.createSocket('udp4');
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', () => r()));
    const forged = encodePacket(
      { type: 'heartbeat', sender: 'n3', excluded: false, incarnation: 42n, seq: 1, timestamp: Date.now(), lag: 0, alive: ['n1'], claims: new Map([['192.0.2.10', 1]]) },
      randomBytes(32),
    );
    // A genuine packet n1 has already received, captured on the way: a speaker that also sends to a spy port
    // (the bytes are the same for every destination). Its leave reaches n1 too, so n3 ends 'left'.
    const sniff = dgram.createSocket('udp4');
    await new Promise<void>((r) => sniff.bind(0, '127.0.0.1', () => r()));
    const captured: Buffer[] = [];
    sniff.on('message', (b) => captured.push(b));
    const spied = [...members, { name: 'spy', address: '127.0.0.1', port: sniff.address().port }];
    const rec = new UdpMembership({ self: 'n3', members: spied, key: KEY, bindAddress: '127.0.0.1', port: p3, intervalMs: 20 });
    await rec.start();
    await waitFor(() => captured.length >= 3 && status(n1.view(), 'n3') === 'alive', 2000, 'genuine packets');
    await rec.stop();
    await waitFor(() => status(n1.view(), 'n3') === 'left', 1000, 'n3 left again');
    const genuine = captured[1];
    assert.ok(genuine !== undefined);
    const before1 = n1.view();
    const send = (b: Buffer): Promise<void> => new Promise((r) => attacker.send(b, p1, '127.0.0.1', () => r()));
    await send(forged);
    await send(genuine);
    await send(genuine);
    await waitFor(() => n1.view().drops.unauthenticated > before1.drops.unauthenticated && n1.view().drops.replay >= before1.drops.replay + 2, 1000, 'drops counted');
    await new Promise((r) => setTimeout(r, 200));
    const after1 = n1.view();
    assert.equal(after1.drops.unauthenticated - before1.drops.unauthenticated, 1);
    assert.equal(after1.drops.replay - before1.drops.replay, 2);
    assert.deepEqual(after1.members.map((m) => [m.name, m.status]), before1.members.map((m) => [m.name, m.status]), 'no status changed');
    assert.equal(status(after1, 'n3'), 'left');
    assert.equal(after1.members.find((m) => m.name === 'n3')?.claims.size, 0, 'the forged claim never appears');
    attacker.close();
    sniff.close();
  });

  it('a crashed liveness worker makes its speaker not ready at once, then restarts with a new incarnation', { timeout: 30_000 }, async () => {
    const [pa, pb] = await freeUdpPorts(2);
    assert.ok(pa !== undefined && pb !== undefined);
    const members: MemberAddress[] = [
      { name: 'a', address: '127.0.0.1', port: pa },
      { name: 'b', address: '127.0.0.1', port: pb },
    ];
    const a = new WorkerMembership({ self: 'a', members, key: KEY, bindAddress: '127.0.0.1', port: pa, restartMs: 100 });
    const b = new WorkerMembership({ self: 'b', members, key: KEY, bindAddress: '127.0.0.1', port: pb });
    started.push(a, b);
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => a.view().ready && status(b.view(), 'a') === 'alive', 3000, 'a and b to converge');
    const inc1 = b.view().members.find((m) => m.name === 'a')?.incarnation;
    const readiness: boolean[] = [];
    a.on({ onChange: (v) => readiness.push(v.ready) });
    const w = (a as unknown as { worker: { terminate(): Promise<number> } | null }).worker;
    assert.ok(w !== null);
    await w.terminate();
    assert.equal(a.view().ready, false, 'not ready as soon as the worker is gone');
    assert.deepEqual(readiness.slice(0, 1), [false]);
    await waitFor(() => a.view().ready, 5000, 'the worker to come back');
    await waitFor(() => status(b.view(), 'a') === 'alive' && b.view().members.find((m) => m.name === 'a')?.incarnation !== inc1, 3000, 'b to hear the new incarnation');
  });
});
