// Shared by the manifests tests: every document of manifests/*.yaml, parsed with the `yaml` package (YAML 1.2
// core schema: `on`/`yes` stay strings, as in the API server's decoder), and lookups over them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../helpers/cli.js';

export const MANIFESTS_DIR = join(REPO_ROOT, 'manifests');
export const NAMESPACE = 'ingot-system';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface Loaded {
  readonly file: string;
  readonly index: number;
  readonly obj: K8sObject;
}

/** Every non-empty document of every manifests/*.yaml file; throws on any YAML error or warning. */
export function loadManifests(): Loaded[] {
  const files = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const out: Loaded[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(join(MANIFESTS_DIR, file), 'utf8'), { uniqueKeys: true });
    if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
    docs.forEach((d, index) => {
      const problems = [...d.errors, ...d.warnings];
      if (problems.length > 0) throw new Error(`${file} document ${index + 1}: ${problems.map((e) => e.message).join('; ')}`);
      const obj: unknown = d.toJS();
      if (obj === null || obj === undefined) return;
      out.push({ file, index, obj: obj as K8sObject });
    });
  }
  return out;
}

export function only<T = K8sObject>(objs: readonly Loaded[], kind: string, name: string): T {
  const found = objs.filter((o) => o.obj.kind === kind && o.obj.metadata.name === name);
  if (found.length !== 1) throw new Error(`want exactly one ${kind} ${name}, found ${found.length}`);
  return found[0]!.obj as T;
}

// The subset of the apps/v1 and core/v1 types the tests read (the schema test checks the rest).
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: { httpGet: { path: string; port: number | string } };
  readinessProbe?: { httpGet: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
  };
}

export interface PodSpec {
  serviceAccountName?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; seccompProfile?: { type: string } };
  containers: Container[];
}

export interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

export interface Binding extends K8sObject {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}
