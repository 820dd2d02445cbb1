import type { ResourceType } from './types.js';

type Def = [
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames?: string[],
  status?: boolean,
];

/** The built-in resources Herald and its chart use; everything else comes from CRDs. */
const defs: Def[] = [
  ['', 'v1', 'Namespace', 'namespaces', false, ['ns'], true],
  ['', 'v1', 'Service', 'services', true, ['svc'], true],
  ['', 'v1', 'Endpoints', 'endpoints', true, ['ep']],
  ['', 'v1', 'Node', 'nodes', false, ['no'], true],
  ['', 'v1', 'Pod', 'pods', true, ['po'], true],
  ['', 'v1', 'Secret', 'secrets', true],
  ['', 'v1', 'ConfigMap', 'configmaps', true, ['cm']],
  ['', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']],
  ['', 'v1', 'Event', 'events', true, ['ev']],
  ['events.k8s.io', 'v1', 'Event', 'events', true, ['ev']],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true],
  ['coordination.k8s.io', 'v1', 'Lease', 'leases', true],
  ['apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], true],
  ['apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], true],
  ['rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true],
  ['rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false],
  ['rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
  ['policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], true],
  [
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
    ['crd', 'crds'],
    true,
  ],
];

export function builtinResourceTypes(): ResourceType[] {
  return defs.map(([group, version, kind, plural, namespaced, shortNames = [], status = false]) => ({
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    statusSubresource: status,
  }));
}
