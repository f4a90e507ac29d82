// Run inside a network namespace by test/interop/md5-gtsm.test.ts:
//   node --import tsx connect.ts '<json Attempt[]>'
// Makes every attempt at once through src/net and prints one JSON line: {name: Outcome}. An attempt whose
// handshake does not complete within timeoutMs is "timeout" (a wrong TCP-MD5 key or a GTSM drop makes the
// server's kernel discard the SYN silently, so there is no error to wait for). With read > 0 the attempt also
// waits for that many bytes (FRR's OPEN) and reports them in hex.
import { createBgpSocket, type BgpSocketOptions } from '../../../../src/net/sockopt.js';

interface Attempt extends BgpSocketOptions {
  name: string;
  host: string;
  port: number;
  timeoutMs: number;
  read?: number;
}

interface Outcome {
  result: 'connected' | 'timeout' | 'error';
  error?: string;
  local?: string;
  data?: string;
}

function attempt(a: Attempt): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const socket = createBgpSocket(a);
    let connected = false;
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      finish(connected ? { result: 'connected', local: socket.localAddress, data: got.toString('hex'), error: 'read timeout' } : { result: 'timeout' });
    }, a.timeoutMs);
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ result: 'error', error: e.code ?? e.message }));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= (a.read ?? 1)) finish({ result: 'connected', local: socket.localAddress, data: got.subarray(0, a.read ?? got.length).toString('hex') });
    });
    socket.connect({ host: a.host, port: a.port }, () => {
      connected = true;
    });
  });
}

const attempts = JSON.parse(process.argv[2] ?? '[]') as Attempt[];
if (attempts.length === 0) throw new Error('usage: connect.ts <json array of attempts>');
const outcomes = await Promise.all(attempts.map(attempt));
process.stdout.write(`${JSON.stringify(Object.fromEntries(attempts.map((a, i) => [a.name, outcomes[i]])))}\n`);
