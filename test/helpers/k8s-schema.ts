// Structural validation of the Kubernetes objects in manifests/: the kinds and fields ingot's manifests use,
// with the API's types, required fields and enums (k8s.io/api v1.32), and — unlike the OpenAPI schemas, which
// let unknown fields through — every field not listed here is an error, so a typo (`imagePullPolicyy`,
// `readOnlyRootFileSystem`) fails instead of being silently dropped by the API server.
// Why not kubernetes-models (../shared/notes/node-platform.md §8): 22 MB for 1708 validators that accept
// unknown fields and free-form verbs; the fields these manifests use fit in this file. A field the manifests
// start using must be added here, with its real type: the error says which one.

export type Schema =
  | { readonly t: 'string'; readonly enum?: readonly string[]; readonly pattern?: RegExp }
  | { readonly t: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly t: 'boolean' }
  | { readonly t: 'int-or-string' }
  | { readonly t: 'quantity' }
  | { readonly t: 'array'; readonly items: Schema; readonly minItems?: number }
  | { readonly t: 'map'; readonly values: Schema }
  | { readonly t: 'object'; readonly fields: Readonly<Record<string, Schema>>; readonly required?: readonly string[] };

const str = (o: { enum?: readonly string[]; pattern?: RegExp } = {}): Schema => ({ t: 'string', ...o });
const int = (min?: number, max?: number): Schema => ({ t: 'integer', min, max });
const bool: Schema = { t: 'boolean' };
const arr = (items: Schema, minItems?: number): Schema => ({ t: 'array', items, minItems });
const obj = (fields: Record<string, Schema>, required: readonly string[] = []): Schema => ({ t: 'object', fields, required });
const strMap: Schema = { t: 'map', values: str() };
// Label values: at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends (or empty).
const labels: Schema = { t: 'map', values: str({ pattern: /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/ }) };

// RFC 1123 names and label values, as the API server checks them.
const dnsLabel = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// IANA service names (container port names): at most 15 characters, at least one letter.
const portName = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const metadata = (namespaced: boolean): Schema =>
  obj(
    {
      name: str({ pattern: dnsSubdomain }),
      ...(namespaced ? { namespace: str({ pattern: dnsLabel }) } : {}),
      labels,
      annotations: strMap,
    },
    namespaced ? ['name', 'namespace'] : ['name'],
  );

/** Verbs the API server knows (RBAC accepts any string; a typo would silently grant nothing). */
export const KNOWN_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;

const policyRule = obj(
  {
    apiGroups: arr(str()),
    resources: arr(str({ pattern: /^[a-z]+(\/[a-z]+)?$/ })),
    resourceNames: arr(str({ pattern: dnsSubdomain })),
    verbs: arr(str({ enum: KNOWN_VERBS }), 1),
  },
  ['verbs'],
);
const roleRef = obj({ apiGroup: str({ enum: ['rbac.authorization.k8s.io'] }), kind: str({ enum: ['Role', 'ClusterRole'] }), name: str() }, [
  'apiGroup',
  'kind',
  'name',
]);
const subject = obj({ kind: str({ enum: ['ServiceAccount'] }), name: str({ pattern: dnsSubdomain }), namespace: str({ pattern: dnsLabel }) }, [
  'kind',
  'name',
  'namespace',
]);

const labelSelector = obj({ matchLabels: labels });
const httpGet = obj({ path: str({ pattern: /^\// }), port: { t: 'int-or-string' }, scheme: str({ enum: ['HTTP', 'HTTPS'] }) }, ['port']);
const probe = obj(
  {
    httpGet,
    initialDelaySeconds: int(0),
    periodSeconds: int(1),
    timeoutSeconds: int(1),
    failureThreshold: int(1),
    successThreshold: int(1),
  },
  ['httpGet'],
);
const capability = str({ pattern: /^[A-Z_]+$/ });
const seccomp = obj({ type: str({ enum: ['RuntimeDefault', 'Localhost', 'Unconfined'] }) }, ['type']);
const containerSecurityContext = obj({
  allowPrivilegeEscalation: bool,
  readOnlyRootFilesystem: bool,
  privileged: bool,
  runAsNonRoot: bool,
  runAsUser: int(0),
  runAsGroup: int(0),
  capabilities: obj({ add: arr(capability), drop: arr(capability) }),
  seccompProfile: seccomp,
});
const envVar = obj(
  {
    name: str({ pattern: /^[-._a-zA-Z][-._a-zA-Z0-9]*$/ }),
    value: str(),
    valueFrom: obj({ fieldRef: obj({ fieldPath: str(), apiVersion: str() }, ['fieldPath']) }),
  },
  ['name'],
);
const containerPort = obj(
  {
    name: str({ pattern: portName }),
    containerPort: int(1, 65535),
    protocol: str({ enum: ['TCP', 'UDP', 'SCTP'] }),
    hostPort: int(1, 65535),
  },
  ['containerPort'],
);
const volumeMount = obj({ name: str({ pattern: dnsLabel }), mountPath: str(), readOnly: bool, subPath: str() }, ['name', 'mountPath']);
// Only the volume source the manifests use (a Secret); others are unknown fields until used.
const volume = obj(
  {
    name: str({ pattern: dnsLabel }),
    secret: obj({
      secretName: str({ pattern: dnsSubdomain }),
      items: arr(obj({ key: str(), path: str(), mode: int(0, 0o777) }, ['key', 'path'])),
      defaultMode: int(0, 0o777),
      optional: bool,
    }),
  },
  ['name'],
);
const resources = obj({ requests: { t: 'map', values: { t: 'quantity' } }, limits: { t: 'map', values: { t: 'quantity' } } });
const container = obj(
  {
    name: str({ pattern: dnsLabel }),
    image: str(),
    imagePullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }),
    command: arr(str()),
    args: arr(str()),
    env: arr(envVar),
    ports: arr(containerPort),
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    resources,
    securityContext: containerSecurityContext,
    volumeMounts: arr(volumeMount),
  },
  ['name', 'image'],
);
const toleration = obj({
  key: str(),
  operator: str({ enum: ['Exists', 'Equal'] }),
  value: str(),
  effect: str({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
});
const podAffinityTerm = obj({ topologyKey: str(), labelSelector }, ['topologyKey']);
const affinity = obj({
  podAntiAffinity: obj({
    preferredDuringSchedulingIgnoredDuringExecution: arr(obj({ weight: int(1, 100), podAffinityTerm }, ['weight', 'podAffinityTerm'])),
    requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
  }),
});
const podSpec = obj(
  {
    serviceAccountName: str({ pattern: dnsSubdomain }),
    hostNetwork: bool,
    dnsPolicy: str({ enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] }),
    nodeSelector: strMap,
    affinity,
    tolerations: arr(toleration),
    terminationGracePeriodSeconds: int(0),
    priorityClassName: str(),
    securityContext: obj({
      runAsNonRoot: bool,
      runAsUser: int(0),
      runAsGroup: int(0),
      fsGroup: int(0),
      seccompProfile: seccomp,
    }),
    containers: arr(container, 1),
    volumes: arr(volume),
  },
  ['containers'],
);
const podTemplate = obj({ metadata: obj({ labels, annotations: strMap }), spec: podSpec }, ['metadata', 'spec']);

/** Schema per `apiVersion/kind` for the kinds the manifests use. */
export const SCHEMAS: Readonly<Record<string, { namespaced: boolean; schema: Schema }>> = {
  'v1/Namespace': { namespaced: false, schema: obj({ metadata: metadata(false) }, ['metadata']) },
  'v1/ServiceAccount': { namespaced: true, schema: obj({ metadata: metadata(true), automountServiceAccountToken: bool }, ['metadata']) },
  'v1/ConfigMap': { namespaced: true, schema: obj({ metadata: metadata(true), data: strMap }, ['metadata']) },
  'rbac.authorization.k8s.io/v1/ClusterRole': { namespaced: false, schema: obj({ metadata: metadata(false), rules: arr(policyRule) }, ['metadata']) },
  'rbac.authorization.k8s.io/v1/Role': { namespaced: true, schema: obj({ metadata: metadata(true), rules: arr(policyRule) }, ['metadata']) },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    namespaced: false,
    schema: obj({ metadata: metadata(false), roleRef, subjects: arr(subject, 1) }, ['metadata', 'roleRef']),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    namespaced: true,
    schema: obj({ metadata: metadata(true), roleRef, subjects: arr(subject, 1) }, ['metadata', 'roleRef']),
  },
  'apps/v1/Deployment': {
    namespaced: true,
    schema: obj(
      {
        metadata: metadata(true),
        spec: obj(
          {
            replicas: int(0),
            revisionHistoryLimit: int(0),
            selector: labelSelector,
            strategy: obj({ type: str({ enum: ['RollingUpdate', 'Recreate'] }) }),
            template: podTemplate,
          },
          ['selector', 'template'],
        ),
      },
      ['metadata', 'spec'],
    ),
  },
  'apps/v1/DaemonSet': {
    namespaced: true,
    schema: obj(
      {
        metadata: metadata(true),
        spec: obj(
          {
            revisionHistoryLimit: int(0),
            selector: labelSelector,
            updateStrategy: obj({
              type: str({ enum: ['RollingUpdate', 'OnDelete'] }),
              rollingUpdate: obj({ maxUnavailable: { t: 'int-or-string' }, maxSurge: { t: 'int-or-string' } }),
            }),
            template: podTemplate,
          },
          ['selector', 'template'],
        ),
      },
      ['metadata', 'spec'],
    ),
  },
};

// Kubernetes resource quantities: a decimal number with an optional binary or decimal SI suffix.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Every problem found in `value` against `schema`, as `path: message` strings. */
export function validate(value: unknown, schema: Schema, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  switch (schema.t) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: want a string, got ${JSON.stringify(value)}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
      if (schema.pattern && !schema.pattern.test(value)) return [`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`];
      return [];
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: want an integer, got ${JSON.stringify(value)}`];
      if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
        return [`${at}: ${value} is outside [${schema.min ?? '-inf'}, ${schema.max ?? 'inf'}]`];
      }
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: want a boolean, got ${JSON.stringify(value)}`];
    case 'int-or-string':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'string' ? [] : [`${at}: want an integer or a string`];
    case 'quantity':
      return (typeof value === 'string' && QUANTITY.test(value)) || (typeof value === 'number' && value >= 0)
        ? []
        : [`${at}: ${JSON.stringify(value)} is not a quantity`];
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: want an array, got ${JSON.stringify(value)}`];
      const errs = value.flatMap((v, i) => validate(v, schema.items, `${path}[${i}]`));
      if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(`${at}: want at least ${schema.minItems} item(s)`);
      return errs;
    }
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: want a map, got ${JSON.stringify(value)}`];
      return Object.entries(value).flatMap(([k, v]) => validate(v, schema.values, `${path}.${k}`));
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: want an object, got ${JSON.stringify(value)}`];
      const rec = value as Record<string, unknown>;
      const errs: string[] = [];
      for (const r of schema.required ?? []) if (!(r in rec)) errs.push(`${at}: missing required field ${r}`);
      for (const [k, v] of Object.entries(rec)) {
        const sub = schema.fields[k];
        if (sub === undefined) errs.push(`${path === '' ? '' : `${path}.`}${k}: unknown field (not in the API, or not used by these manifests yet)`);
        else errs.push(...validate(v, sub, path === '' ? k : `${path}.${k}`));
      }
      return errs;
    }
  }
}

/** Validates one whole object: apiVersion/kind known, then its schema. */
export function validateObject(doc: unknown): string[] {
  if (doc === null || typeof doc !== 'object') return ['(root): not an object'];
  const { apiVersion, kind, ...rest } = doc as Record<string, unknown>;
  const key = `${String(apiVersion)}/${String(kind)}`;
  const entry = SCHEMAS[key];
  if (entry === undefined) return [`${key}: kind not known to test/helpers/k8s-schema.ts`];
  return validate(rest, entry.schema);
}
