import { changesOnly, modelChange, type ModelChange } from './model-change.js';
import { serviceKey } from './service.js';
import type { HeraldModel, Problem } from './types.js';
import {
  checkEndpointSlice,
  checkService,
  type Locate,
  poolLookup,
  problemsAt,
  sliceKeyOf,
  validateModel,
} from './validate.js';

/** What the last clean model's Services and EndpointSlices are, counted by key. */
interface Clean {
  model: HeraldModel;
  services: Map<string, number>;
  slices: Map<string, number>;
}

/** The kinds a change may touch and still be checked one object at a time (see provedClean). */
const PER_OBJECT: ReadonlyArray<keyof HeraldModel> = ['services', 'endpointSlices', 'namespaces'];

/**
 * validateModel for a model that changes a little at a time. After a clean model, a change that only
 * adds or removes Services and EndpointSlices (the recorded change of a reload, config/model-change.ts)
 * is checked through its own objects and two counts by key: duplicate Services, each added Service's
 * request against the unchanged pools, each added slice's Service and Nodes, and removed Services that a
 * remaining slice still names. Anything else — another kind changed, a model with no Services, or any
 * problem found — runs validateModel over the whole model, so problems are always validateModel's own.
 * Property-tested against validateModel.
 */
export class ModelValidation {
  private clean: Clean | undefined;
  readonly stats = { full: 0, incremental: 0 };

  validate(model: HeraldModel, locate: Locate): Problem[] {
    const clean = this.clean;
    this.clean = undefined;
    const change = clean && modelChange(clean.model, model);
    if (clean && change && provedClean(clean, model, change)) {
      this.stats.incremental++;
      this.clean = { ...clean, model };
      return [];
    }
    this.stats.full++;
    const problems = validateModel(model, locate);
    if (problems.length === 0) this.clean = counted(model);
    return problems;
  }
}

function counted(model: HeraldModel): Clean {
  const services = new Map<string, number>();
  for (const svc of model.services) add(services, serviceKey(svc), 1);
  const slices = new Map<string, number>();
  for (const es of model.endpointSlices) add(slices, sliceKeyOf(es), 1);
  return { model, services, slices };
}

function add(counts: Map<string, number>, key: string, n: number): number {
  const now = (counts.get(key) ?? 0) + n;
  if (now === 0) counts.delete(key);
  else counts.set(key, now);
  return now;
}

/** Updates the counts in place; false (the counts are then dropped) when a whole check must decide. */
function provedClean(clean: Clean, model: HeraldModel, change: ModelChange): boolean {
  if (!changesOnly(change, PER_OBJECT)) return false;
  // Without Services, slices are not checked against them: such a model is checked whole.
  if (model.services.length === 0 || clean.model.services.length === 0) return false;
  const { added, removed } = change;
  const gone: string[] = [];
  for (const svc of removed.services) {
    const key = serviceKey(svc);
    if (add(clean.services, key, -1) === 0) gone.push(key);
  }
  for (const svc of added.services) if (add(clean.services, serviceKey(svc), 1) > 1) return false;
  for (const es of removed.endpointSlices) add(clean.slices, sliceKeyOf(es), -1);
  for (const es of added.endpointSlices) add(clean.slices, sliceKeyOf(es), 1);
  if (gone.some((key) => clean.services.get(key) === undefined && clean.slices.has(key))) return false;

  const problems: Problem[] = [];
  const at = problemsAt(problems, () => undefined);
  const poolNames = new Set(model.pools.map((p) => p.metadata.name));
  const poolOf = poolLookup(model.pools);
  for (const svc of added.services) checkService(svc, poolNames, poolOf, at);
  const nodes = new Set(model.nodes.map((n) => n.metadata.name));
  for (const es of added.endpointSlices) checkEndpointSlice(es, clean.services, nodes, at);
  return problems.length === 0;
}
