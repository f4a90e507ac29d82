// Sends raw Ethernet frames (hex arguments) out of one interface through ingot's addon, from the client
// namespace of the frame interop test: how it injects malformed ARP / NS frames at the engine.
//   node --import tsx inject.ts IFACE HEX [HEX...]
import { readFileSync } from 'node:fs';

import { nativeTransport } from '../../../../src/l2/transport.js';

const [iface, ...frames] = process.argv.slice(2);
const ifindex = Number(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8').trim());
const sock = nativeTransport().open(ifindex, 'arp', () => {}, () => {});
for (const hex of frames) sock.send(Buffer.from(hex, 'hex'));
sock.close();
process.stdout.write(`${JSON.stringify({ sent: frames.length })}\n`);
