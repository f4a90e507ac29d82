// Run inside a network namespace by test/interop/md5-gtsm.test.ts:
//   node --import tsx listen.ts '<json ListenSpec[]>'
// Opens every listener through src/net (keys and TTL options set before listen()), prints one JSON line per
// event on stdout ({"event":"ready"} once all listen, then {"event":"accepted",...} per connection), greets
// each accepted connection with "hello\n" and runs until SIGTERM.
import type net from 'node:net';

import { createBgpListener, ttlOptions, type BgpListenerOptions } from '../../../../src/net/sockopt.js';

function emit(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const specs = JSON.parse(process.argv[2] ?? '[]') as BgpListenerOptions[];
if (specs.length === 0) throw new Error('usage: listen.ts <json array of listener options>');

const servers: net.Server[] = [];
for (const spec of specs) {
  const server = await createBgpListener(spec);
  server.on('connection', (s: net.Socket) => {
    emit({ event: 'accepted', family: spec.family, port: spec.port, remote: s.remoteAddress, ...ttlOptions(s) });
    s.on('error', () => s.destroy());
    s.end('hello\n');
    s.resume();
  });
  servers.push(server);
}
emit({ event: 'ready', listeners: servers.map((s) => s.address()) });

process.on('SIGTERM', () => {
  for (const s of servers) s.close();
  process.exit(0);
});
