// A dumb BGP endpoint for interop tests, run inside a network namespace (`ip netns exec NS node --import tsx
// bgp-pipe.ts '<json config>'). It only moves bytes: the test builds every message with the codec and sends
// it here as hex; this process writes it to the TCP connection, frames what the router sends back (codec
// Framer), reports each message as a JSON line on stdout and answers the router's OPEN and KEEPALIVEs with
// KEEPALIVEs (RFC 4271 §4.4: keep the session up without an FSM; the full FSM is a later issue).
//
// config: {"local": "10.99.0.2", "remote": "10.99.0.1", "port": 179, "keepaliveMs": 10000}
// stdin lines:  {"send": "<hex>"} | {"close": true}
// stdout lines: {"event": "connected"} | {"event": "message", "type": N, "hex": "..."}
//               | {"event": "closed"} | {"event": "error", "message": "..."}
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { Framer, MAX_EXTENDED_MESSAGE_LENGTH } from '../../../src/bgp/index.js';

interface Config {
  local: string;
  remote: string;
  port?: number;
  keepaliveMs?: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const emit = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

const KEEPALIVE = Buffer.from('ffffffffffffffffffffffffffffffff001304', 'hex');
// The framer accepts up to 65535 octets: the test, not this pipe, knows whether extended messages were
// negotiated, and a too-long message is still reported (the test's decode would reject it).
const framer = new Framer(MAX_EXTENDED_MESSAGE_LENGTH);
let timer: NodeJS.Timeout | undefined;

const sock = connect({ host: cfg.remote, port: cfg.port ?? 179, localAddress: cfg.local });
sock.setNoDelay(true);
sock.on('connect', () => emit({ event: 'connected' }));
sock.on('data', (chunk: Buffer) => {
  try {
    framer.push(chunk, (m) => {
      const type = m[18];
      emit({ event: 'message', type, hex: Buffer.from(m).toString('hex') });
      if (type === 1 || type === 4) sock.write(KEEPALIVE);
      if (type === 1 && timer === undefined) {
        timer = setInterval(() => sock.write(KEEPALIVE), cfg.keepaliveMs ?? 10_000);
      }
    });
  } catch (e) {
    emit({ event: 'error', message: (e as Error).message });
    sock.destroy();
  }
});
sock.on('error', (e) => emit({ event: 'error', message: e.message }));
sock.on('close', () => {
  if (timer) clearInterval(timer);
  emit({ event: 'closed' });
  process.exit(0);
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  const cmd = JSON.parse(line) as { send?: string; close?: boolean };
  if (cmd.send !== undefined) sock.write(Buffer.from(cmd.send, 'hex'));
  if (cmd.close) sock.end();
});
process.stdin.on('end', () => sock.end());
