import type { KubernetesObject } from './client.js';
import { addObject, newParsed } from '../config/parse.js';
import type { HeraldModel, Problem } from '../config/types.js';
import { validateModel } from '../config/validate.js';
import { projectForSpeaker } from './project.js';

/** Where an object read from the API server is reported in problems: `kubernetes:0:<Kind ns/name>.path`. */
export function objectLocation(obj: { kind?: string; metadata?: { name?: string; namespace?: string } }): {
  file: string;
  doc: number;
  path: string;
} {
  const ns = obj.metadata?.namespace;
  return {
    file: 'kubernetes',
    doc: 0,
    path: `${obj.kind ?? '?'}(${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'})`,
  };
}

/**
 * Builds H3's HeraldModel from objects read from the API server (Herald and MetalLB CRs, Services, Nodes,
 * EndpointSlices, Namespaces), exactly as the standalone YAML loader would from a file: each object is
 * schema-checked on its own (bad ones are left out, with problems), then cross-object checks run.
 * Objects must carry apiVersion and kind (list items from client-node do not: see withKind).
 */
export function buildModel(objects: Iterable<KubernetesObject>): { model: HeraldModel; problems: Problem[] } {
  const out = newParsed();
  for (const obj of objects) addObject(obj, objectLocation(obj), out);
  const problems = [...out.problems, ...validateModel(out.model, (o) => out.locations.get(o))];
  return { model: out.model, problems };
}

/** List items lack apiVersion/kind; informer caches keep them that way. */
export function withKind<T extends KubernetesObject>(obj: T, apiVersion: string, kind: string): T {
  return obj.apiVersion && obj.kind ? obj : { ...obj, apiVersion, kind };
}

/** What the speaker keeps of one API object: its model object (in `field`) and its own problems. */
export interface ModelEntry {
  field?: keyof HeraldModel;
  object?: object;
  problems: readonly Problem[];
}

const NO_PROBLEMS: readonly Problem[] = Object.freeze([]);

/**
 * One API object as the speaker keeps it: projected to what the speaker reads (project.ts), then checked
 * and parsed into its model object exactly as the standalone loader does; neither the object as received
 * nor the projection is kept. Objects with problems of their own have no model object.
 */
export function speakerEntry(apiVersion: string, kind: string, raw: Record<string, unknown>): ModelEntry {
  const obj = projectForSpeaker(apiVersion, kind, raw);
  const out = newParsed();
  addObject(obj, objectLocation(obj), out);
  const problems = out.problems.length > 0 ? out.problems : NO_PROBLEMS;
  for (const field of Object.keys(out.model) as Array<keyof HeraldModel>) {
    const [object] = out.model[field];
    if (object) return { field, object, problems };
  }
  return { problems };
}
