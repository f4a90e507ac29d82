// A cluster file of N LoadBalancer Services, each with one EndpointSlice, laid out the way
// `kubectl get services,endpointslices -A -o yaml` (or `-o json`) prints them: a `kind: List` with full
// metadata (no managedFields), status IPs from 198.18.0.1 up (RFC 2544), one ready
// endpoint on `node`. 10,000 Services come to ~7.5 MB of YAML. Used by bench/cluster.bench.ts and tests.

function ip(i: number): string {
  const n = 0xc6120000 + i + 1;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function uid(i: number, salt: number): string {
  const h = ((i + 1) * 2654435761 + salt * 40503) >>> 0;
  const x = h.toString(16).padStart(8, '0');
  return `${x}-${x.slice(0, 4)}-4${x.slice(1, 4)}-a${x.slice(2, 5)}-${x}${x.slice(0, 4)}`;
}

export function clusterObjects(n: number, node = 'node-1'): { apiVersion: string; kind: string; items: unknown[]; metadata: { resourceVersion: string } } {
  const items: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const ns = `team-${i % 50}`;
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        creationTimestamp: '2026-11-20T10:00:00Z',
        labels: { app: name },
        name,
        namespace: ns,
        resourceVersion: String(100000 + i),
        uid: uid(i, 1),
      },
      spec: {
        clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`,
        clusterIPs: [`10.96.${(i >> 8) & 255}.${i & 255}`],
        externalTrafficPolicy: 'Cluster',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [
          { name: 'http', nodePort: 30000 + (i % 2000), port: 80, protocol: 'TCP', targetPort: 8080 },
        ],
        selector: { app: name },
        sessionAffinity: 'None',
        type: 'LoadBalancer',
      },
      status: { loadBalancer: { ingress: [{ ip: ip(i) }] } },
    });
    items.push({
      addressType: 'IPv4',
      apiVersion: 'discovery.k8s.io/v1',
      endpoints: [
        {
          addresses: [`10.244.${(i >> 8) & 255}.${i & 255}`],
          conditions: { ready: true },
          nodeName: node,
        },
      ],
      kind: 'EndpointSlice',
      metadata: {
        labels: { 'kubernetes.io/service-name': name },
        name: `${name}-abcde`,
        namespace: ns,
      },
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
      ],
    });
  }
  items.push({ apiVersion: 'v1', kind: 'Node', metadata: { labels: { 'kubernetes.io/hostname': node }, name: node } });
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}

/** kubectl's YAML layout: block style, two-space indentation, list items at their key's indentation. */
export function toKubectlYaml(v: unknown, indent = ''): string {
  let out = '';
  const scalar = (x: unknown): string => {
    if (typeof x === 'string') return /^[A-Za-z0-9_./@-][A-Za-z0-9_./@ -]*$/.test(x) && !/^(true|false|null|[0-9.]+)$/.test(x) && !x.endsWith(' ') ? x : JSON.stringify(x);
    return String(x);
  };
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === 'object' && item !== null) {
        const body = toKubectlYaml(item, indent + '  ');
        out += `${indent}- ${body.slice(indent.length + 2)}`;
      } else out += `${indent}- ${scalar(item)}\n`;
    }
    return out;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const key = /^[A-Za-z0-9_./-]+$/.test(k) ? k : JSON.stringify(k);
    if (Array.isArray(x)) out += x.length === 0 ? `${indent}${key}: []\n` : `${indent}${key}:\n${toKubectlYaml(x, indent)}`;
    else if (typeof x === 'object' && x !== null) out += Object.keys(x).length === 0 ? `${indent}${key}: {}\n` : `${indent}${key}:\n${toKubectlYaml(x, indent + '  ')}`;
    else out += `${indent}${key}: ${scalar(x)}\n`;
  }
  return out;
}

export function clusterYaml(n: number, node?: string): string {
  return toKubectlYaml(clusterObjects(n, node));
}

export function clusterJson(n: number, node?: string): string {
  return JSON.stringify(clusterObjects(n, node), null, 4) + '\n';
}
