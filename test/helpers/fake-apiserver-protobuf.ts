// Decodes the Kubernetes protobuf request bodies kubectl's typed create commands send
// (`kubectl create configmap|secret|namespace|serviceaccount` and `kubectl auth can-i [--list]` use Content-Type application/vnd.kubernetes.protobuf
// and nothing else; client-go does not fall back to JSON on a 415). Only those kinds are understood; anything else
// is refused with 415 by the caller. The wire format is the envelope of k8s.io/apimachinery/pkg/runtime
// (magic `k8s\0`, then a `runtime.Unknown` message with typeMeta = 1, raw = 2) around the object's message as in
// k8s.io/api/core/v1/generated.proto; field numbers below are from those files.

type Fields = Map<number, Array<Buffer | bigint>>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 70n) throw new Error('varint too long');
  }
}

/** One message's fields: length-delimited values as Buffers, varints (and fixed ints) as bigints. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: Buffer | bigint;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      value = buf.subarray(q, q + Number(len));
      if (value.length !== Number(len)) throw new Error('truncated field');
      pos = q + Number(len);
    } else if (wire === 1) {
      value = buf.readBigUInt64LE(pos);
      pos += 8;
    } else if (wire === 5) {
      value = BigInt(buf.readUInt32LE(pos));
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const bytesOf = (f: Fields, n: number): Buffer | undefined => f.get(n)?.find((v): v is Buffer => Buffer.isBuffer(v));
const str = (f: Fields, n: number): string | undefined => bytesOf(f, n)?.toString('utf8');
const num = (f: Fields, n: number): bigint | undefined => f.get(n)?.find((v): v is bigint => typeof v === 'bigint');
const bool = (f: Fields, n: number): boolean | undefined => (num(f, n) === undefined ? undefined : num(f, n) !== 0n);

function stringMap(f: Fields, n: number, asBase64 = false): Record<string, string> | undefined {
  const entries = (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e);
    const value = bytesOf(kv, 2) ?? Buffer.alloc(0);
    out[str(kv, 1) ?? ''] = asBase64 ? value.toString('base64') : value.toString('utf8');
  }
  return out;
}

function objectMeta(buf: Buffer | undefined): Record<string, unknown> {
  if (!buf) return {};
  const f = fields(buf);
  const m: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== '') m[key] = value;
  };
  set('name', str(f, 1));
  set('generateName', str(f, 2));
  set('namespace', str(f, 3));
  set('uid', str(f, 5));
  set('resourceVersion', str(f, 6));
  set('labels', stringMap(f, 11));
  set('annotations', stringMap(f, 12));
  const finalizers = (f.get(14) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map((b) => b.toString('utf8'));
  if (finalizers.length) m.finalizers = finalizers;
  return m;
}

/** The JSON form of a protobuf-encoded ConfigMap, Secret, Namespace, ServiceAccount, SelfSubjectAccessReview or
 *  SelfSubjectRulesReview; throws for anything else. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('missing the k8s protobuf magic prefix');
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(bytesOf(unknown, 1) ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  const raw = fields(bytesOf(unknown, 2) ?? Buffer.alloc(0));
  const base = { apiVersion, kind, metadata: objectMeta(bytesOf(raw, 1)) };
  const opt = (key: string, value: unknown): Record<string, unknown> => (value === undefined ? {} : { [key]: value });
  if (apiVersion === 'authorization.k8s.io/v1' && kind === 'SelfSubjectAccessReview') {
    // spec = 2: resourceAttributes = 1 (namespace 1, verb 2, group 3, version 4, resource 5, subresource 6, name 7),
    // nonResourceAttributes = 2 (path 1, verb 2).
    const spec = fields(bytesOf(raw, 2) ?? Buffer.alloc(0));
    const ra = bytesOf(spec, 1);
    const nra = bytesOf(spec, 2);
    const pick = (f: Fields, names: string[]): Record<string, string> =>
      Object.fromEntries(names.map((n, i) => [n, str(f, i + 1)]).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return {
      ...base,
      spec: {
        ...(ra ? { resourceAttributes: pick(fields(ra), ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']) } : {}),
        ...(nra ? { nonResourceAttributes: pick(fields(nra), ['path', 'verb']) } : {}),
      },
    };
  }
  if (apiVersion === 'authorization.k8s.io/v1' && kind === 'SelfSubjectRulesReview') {
    const spec = fields(bytesOf(raw, 2) ?? Buffer.alloc(0)); // SelfSubjectRulesReviewSpec: namespace = 1
    return { ...base, spec: { namespace: str(spec, 1) ?? '' } };
  }
  if (apiVersion !== 'v1') throw new Error(`protobuf bodies are understood only for core v1 kinds, not ${apiVersion}/${kind}`);
  switch (kind) {
    case 'ConfigMap':
      return { ...base, ...opt('data', stringMap(raw, 2)), ...opt('binaryData', stringMap(raw, 3, true)), ...opt('immutable', bool(raw, 4)) };
    case 'Secret':
      return { ...base, ...opt('data', stringMap(raw, 2, true)), ...opt('type', str(raw, 3)), ...opt('stringData', stringMap(raw, 4)), ...opt('immutable', bool(raw, 5)) };
    case 'Namespace':
      return base;
    case 'ServiceAccount':
      return { ...base, ...opt('automountServiceAccountToken', bool(raw, 4)) };
    default:
      throw new Error(`protobuf bodies are understood only for ConfigMap, Secret, Namespace and ServiceAccount, not ${kind}`);
  }
}
