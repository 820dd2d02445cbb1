import type { ParsedObjects } from './parse.js';
import { emptyModel, type HeraldModel, type Problem } from './types.js';
import type { ObjectLocation } from './validate.js';

/**
 * One document's decoded objects as the parsing thread sends them back: only what is there. A document
 * holds one object, and its two full models are 24 arrays, almost all empty: cloned for every document of
 * a 10,000-Service file they made 12 MB and ~0.85 s of CPU (0.4 s of it on the event loop), against
 * 5.5 MB and ~0.3 s like this. One message keeps each object's identity, so `locations` still finds them.
 */
export interface WireObjects {
  model?: Partial<HeraldModel>;
  checkedOnly?: Partial<HeraldModel>;
  problems?: Problem[];
  locations?: Array<[object, ObjectLocation]>;
}

export function toWire(parsed: ParsedObjects): WireObjects {
  const out: WireObjects = {};
  const model = present(parsed.model);
  const checkedOnly = present(parsed.checkedOnly);
  if (model) out.model = model;
  if (checkedOnly) out.checkedOnly = checkedOnly;
  if (parsed.problems.length > 0) out.problems = parsed.problems;
  if (parsed.locations.size > 0) out.locations = [...parsed.locations];
  return out;
}

export function fromWire(wire: WireObjects): ParsedObjects {
  return {
    model: { ...emptyModel(), ...wire.model },
    checkedOnly: { ...emptyModel(), ...wire.checkedOnly },
    problems: wire.problems ?? [],
    locations: new Map(wire.locations),
  };
}

function present(model: HeraldModel): Partial<HeraldModel> | undefined {
  const fields = Object.entries(model).filter(([, objects]) => (objects as object[]).length > 0);
  return fields.length > 0 ? (Object.fromEntries(fields) as Partial<HeraldModel>) : undefined;
}
