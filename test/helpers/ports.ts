// Free loopback UDP ports for tests and scripts: bound on 127.0.0.1 port 0, read, and released together (so
// the n ports are distinct). Another process could take one in between; on loopback in a test run that is rare.
import dgram from 'node:dgram';

export async function freeUdpPorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const s = dgram.createSocket('udp4');
          s.bind(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
