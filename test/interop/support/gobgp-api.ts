// Injects IPv4 /32 routes into a gobgpd through its gRPC API (`AddPathStream`), for the GoBGP-as-speaker
// baseline of scripts/bench-ingest.ts. Runs inside the gobgpd's namespace (its API listens on 127.0.0.1):
//
//   ip netns exec NS node --import tsx gobgp-api.ts '{"port":50051,"first":"198.18.0.1","count":10000,"nextHop":"10.77.0.11"}'
//
// Why not the gobgp CLI: `gobgp global rib add` is one process and one gRPC connection per route (~40 ms of CPU
// each here), and Debian's `gobgp mrt inject` loses the tail of its stream. No gRPC library is a dependency
// of the project, so the few protobuf messages needed are encoded by hand (proto3 wire format: varint tags,
// length-delimited fields) and framed as gRPC (1 byte flag + 4 byte length) on an HTTP/2 stream.
//
// Messages (api/gobgp.proto, api/attribute.proto of GoBGP 3):
//   AddPathStreamRequest { TableType table_type = 1; string vrf_id = 2; repeated Path paths = 3; }
//   Path { Any nlri = 1; repeated Any pattrs = 2; Family family = 9; }
//   Family { Afi afi = 1; Safi safi = 2; }            AFI_IP = 1, SAFI_UNICAST = 1
//   IPAddressPrefix { uint32 prefix_len = 1; string prefix = 2; }
//   OriginAttribute { uint32 origin = 1; }  NextHopAttribute { string next_hop = 1; }
//   google.protobuf.Any { string type_url = 1; bytes value = 2; }
// Prints {"start": epoch ms} when the API connection is up, then {"sent": N, "ms": elapsed, "grpcStatus": "0"}.
import { connect } from 'node:http2';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function field(no: number, bytes: Uint8Array | number[]): number[] {
  const b = Array.from(bytes);
  return [...varint((no << 3) | 2), ...varint(b.length), ...b];
}

function uintField(no: number, v: number): number[] {
  return v === 0 ? [] : [...varint(no << 3), ...varint(v)];
}

const text = (s: string): number[] => Array.from(Buffer.from(s, 'utf8'));

function any(type: string, value: number[]): number[] {
  return [...field(1, text(`type.googleapis.com/apipb.${type}`)), ...field(2, value)];
}

/** One Path message: an IPv4 unicast prefix with ORIGIN IGP and a NEXT_HOP. */
export function pathMessage(prefix: string, len: number, nextHop: string): number[] {
  const nlri = any('IPAddressPrefix', [...uintField(1, len), ...field(2, text(prefix))]);
  const origin = any('OriginAttribute', []); // origin 0 = IGP (proto3 default, so no field at all)
  const nh = any('NextHopAttribute', field(1, text(nextHop)));
  const family = [...uintField(1, 1), ...uintField(2, 1)];
  return [...field(1, nlri), ...field(2, origin), ...field(2, nh), ...field(9, family)];
}

function grpcFrame(msg: number[]): Buffer {
  const b = Buffer.alloc(5 + msg.length);
  b.writeUInt8(0, 0);
  b.writeUInt32BE(msg.length, 1);
  Buffer.from(msg).copy(b, 5);
  return b;
}

function ipv4Add(base: string, k: number): string {
  const p = base.split('.').map(Number);
  const n = ((((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0) + k) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export async function addPaths(o: { port: number; first: string; count: number; nextHop: string; perRequest?: number; onStart?: (t0: number) => void }): Promise<{ sent: number; ms: number; grpcStatus: string }> {
  const client = connect(`http://127.0.0.1:${o.port}`);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  // t0 for the benchmark: the API connection is up and the first path is about to go (process start-up excluded).
  const t0 = Date.now();
  o.onStart?.(t0);
  const stream = client.request({
    ':method': 'POST',
    ':path': '/apipb.GobgpApi/AddPathStream',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  let status = '';
  stream.on('response', (h) => {
    if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
  });
  stream.on('trailers', (h) => {
    status = String(h['grpc-status'] ?? status);
  });
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  stream.resume();
  const per = o.perRequest ?? 1000;
  let sent = 0;
  while (sent < o.count) {
    const n = Math.min(per, o.count - sent);
    const req: number[] = [];
    for (let i = 0; i < n; i++) req.push(...field(3, pathMessage(ipv4Add(o.first, sent + i), 32, o.nextHop)));
    sent += n;
    if (!stream.write(grpcFrame(req))) await new Promise((r) => stream.once('drain', r));
  }
  stream.end();
  await done;
  client.close();
  return { sent, ms: Date.now() - t0, grpcStatus: status };
}

if (process.argv[1] && /gobgp-api\.ts$/.test(process.argv[1])) {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as { port?: number; first: string; count: number; nextHop: string; perRequest?: number };
  addPaths({ port: cfg.port ?? 50051, ...cfg, onStart: (t0) => process.stdout.write(`${JSON.stringify({ start: t0 })}\n`) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: Error) => {
      process.stderr.write(`gobgp-api: ${e.message}\n`);
      process.exit(1);
    },
  );
}
