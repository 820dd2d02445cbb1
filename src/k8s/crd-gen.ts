import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { crdOpenApiSchema } from '../config/json-schema.js';
import { HERALD_GROUP, HERALD_KIND_NAMES, type HeraldKind } from '../config/schemas.js';

interface Column {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

const plurals: Record<HeraldKind, string> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
};

const shortNames: Partial<Record<HeraldKind, string[]>> = { IPAddressPool: ['hpool'], BGPPeer: ['hpeer'] };

const columns: Partial<Record<HeraldKind, Column[]>> = {
  IPAddressPool: [
    { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
    { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs' },
    { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
    { name: 'Assigned IPv4', type: 'integer', jsonPath: '.status.assignedIPv4', priority: 1 },
    { name: 'Available IPv4', type: 'integer', jsonPath: '.status.availableIPv4', priority: 1 },
  ],
  L2Advertisement: [
    { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces', priority: 10 },
  ],
  BGPPeer: [
    { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'ASN', type: 'string', jsonPath: '.spec.peerASN' },
  ],
};

export function pluralOf(kind: HeraldKind): string {
  return plurals[kind];
}

/**
 * The CustomResourceDefinition of one Herald kind, its OpenAPI v3 schema generated from the zod
 * definitions in `src/config/` (so the API server validates exactly what `herald validate` checks for
 * shape; value formats and cross-object rules stay in the controller and speakers).
 */
export function crdFor(kind: HeraldKind): Record<string, unknown> {
  const plural = plurals[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${HERALD_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'herald' } },
    spec: {
      group: HERALD_GROUP,
      scope: 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        categories: ['herald'],
        ...(shortNames[kind] ? { shortNames: shortNames[kind] } : {}),
      },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          subresources: { status: {} },
          ...(columns[kind]
            ? {
                additionalPrinterColumns: [
                  ...columns[kind],
                  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
                ],
              }
            : {}),
          schema: { openAPIV3Schema: crdOpenApiSchema(kind) },
        },
      ],
    },
  };
}

const str = { type: 'string' };

/**
 * ServiceL2Status (like MetalLB's): written by speakers, one per (service, announcing node), saying who
 * announces which addresses and why. Status only; the spec is empty.
 */
export function serviceL2StatusCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `servicel2statuses.${HERALD_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'herald' },
    },
    spec: {
      group: HERALD_GROUP,
      scope: 'Namespaced',
      names: {
        kind: 'ServiceL2Status',
        listKind: 'ServiceL2StatusList',
        plural: 'servicel2statuses',
        singular: 'servicel2status',
        categories: ['herald'],
      },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Service', type: 'string', jsonPath: '.status.serviceName' },
            { name: 'Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
            { name: 'Node', type: 'string', jsonPath: '.status.node' },
            { name: 'IPs', type: 'string', jsonPath: '.status.ips' },
            { name: 'Mode', type: 'string', jsonPath: '.status.mode' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'Which node announces a Service at layer 2 (written by the speakers).',
              properties: {
                apiVersion: str,
                kind: str,
                metadata: { type: 'object' },
                spec: { type: 'object' },
                status: {
                  type: 'object',
                  properties: {
                    node: str,
                    serviceName: str,
                    serviceNamespace: str,
                    ips: { type: 'array', items: str },
                    interfaces: { type: 'array', items: { type: 'object', properties: { name: str } } },
                    mode: { type: 'string', enum: ['owner', 'spread'] },
                    reason: str,
                    lastTransitionTime: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

export function allCrds(): Array<Record<string, unknown>> {
  return [...HERALD_KIND_NAMES.map((k) => crdFor(k)), serviceL2StatusCrd()];
}

const header = '# Generated by `node dist/src/k8s/crd-gen.js` from src/config/schemas.ts; do not edit.\n';

/** File name and YAML text of each CRD, as committed under charts/herald/crds/. */
export function crdFiles(): Array<{ file: string; text: string }> {
  return allCrds().map((crd) => {
    const plural = (crd.spec as { names: { plural: string } }).names.plural;
    return { file: `${HERALD_GROUP}_${plural}.yaml`, text: `${header}${stringify(crd, { lineWidth: 0 })}` };
  });
}

/** `node dist/src/k8s/crd-gen.js [DIR]` writes the CRDs (default: charts/herald/crds). */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? 'charts/herald/crds');
  mkdirSync(dir, { recursive: true });
  for (const f of crdFiles()) writeFileSync(join(dir, f.file), f.text);
  process.stdout.write(`wrote ${crdFiles().length} CRDs to ${dir}\n`);
}
