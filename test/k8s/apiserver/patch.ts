import { clone, isObject, type Json, type JsonObject } from './types.js';

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Keys by which Kubernetes merges lists of objects in strategic merge patches (enough for kubectl apply). */
const mergeKeys = ['name', 'containerPort', 'port', 'mountPath', 'devicePath', 'type', 'ip', 'topologyKey'];

function listMergeKey(a: Json[], b: Json[]): string | undefined {
  const all = [...a, ...b];
  if (all.length === 0 || !all.every(isObject)) return undefined;
  return mergeKeys.find((k) => all.every((e) => isObject(e) && e[k] !== undefined && e[k] !== null));
}

/**
 * Strategic merge patch, close enough to Kubernetes' for kubectl apply: objects merge, lists of objects
 * with a known merge key merge by key, other lists are replaced; `$patch: delete|replace`,
 * `$retainKeys`, `$setElementOrder/...` and `$deleteFromPrimitiveList/...` directives are honoured.
 */
export function strategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = clone(patch);
    delete rest.$patch;
    return rest;
  }
  const out: JsonObject = isObject(target) ? clone(target) : {};
  const retain = Array.isArray(patch.$retainKeys) ? patch.$retainKeys : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((e) => !v.includes(e));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (isObject(v) && v.$patch === 'delete') {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v) && Array.isArray(cur)) {
      const key = listMergeKey(cur, v);
      if (key) {
        const merged = cur.map((e) => clone(e));
        for (const pe of v) {
          if (!isObject(pe)) continue;
          const idx = merged.findIndex((e) => isObject(e) && e[key] === pe[key]);
          if (pe.$patch === 'delete') {
            if (idx >= 0) merged.splice(idx, 1);
          } else if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], pe);
          else merged.push(strategicMergePatch(undefined, pe));
        }
        out[k] = merged;
        continue;
      }
      out[k] = v
        .filter((e) => !(isObject(e) && e.$patch === 'delete'))
        .map((e) => strategicMergePatch(undefined, e));
      continue;
    }
    out[k] = strategicMergePatch(cur, v);
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k) && !(k in patch)) delete out[k];
  return out;
}

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move). */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new Error('json patch must be an array of operations');
  let doc = clone(target);
  const parse = (p: Json | undefined): string[] => {
    if (typeof p !== 'string' || (p !== '' && !p.startsWith('/')))
      throw new Error(`bad json patch path ${JSON.stringify(p)}`);
    return p === ''
      ? []
      : p
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  };
  const get = (path: string[]): Json | undefined => {
    let cur: Json | undefined = doc;
    for (const seg of path) {
      if (Array.isArray(cur)) cur = cur[Number(seg)];
      else if (isObject(cur)) cur = cur[seg];
      else return undefined;
    }
    return cur;
  };
  const setAt = (path: string[], value: Json | undefined, insert: boolean): void => {
    if (path.length === 0) {
      doc = value ?? null;
      return;
    }
    const parent = get(path.slice(0, -1));
    const last = path[path.length - 1]!;
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(idx) || idx < 0 || idx > parent.length)
        throw new Error(`json patch index out of range: ${last}`);
      if (value === undefined) parent.splice(idx, 1);
      else if (insert) parent.splice(idx, 0, value);
      else parent[idx] = value;
    } else if (isObject(parent)) {
      if (value === undefined) {
        if (!(last in parent)) throw new Error(`json patch: no value at /${path.join('/')}`);
        delete parent[last];
      } else parent[last] = value;
    } else throw new Error(`json patch: no parent at /${path.join('/')}`);
  };
  for (const op of ops) {
    if (!isObject(op)) throw new Error('json patch operation must be an object');
    const path = parse(op.path);
    switch (op.op) {
      case 'add':
        setAt(path, clone(op.value ?? null), true);
        break;
      case 'remove':
        setAt(path, undefined, false);
        break;
      case 'replace':
        if (get(path) === undefined) throw new Error(`json patch: no value to replace at ${String(op.path)}`);
        setAt(path, clone(op.value ?? null), false);
        break;
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(op.value))
          throw new Error(`json patch test failed at ${String(op.path)}`);
        break;
      case 'copy':
      case 'move': {
        const from = parse(op.from);
        const v = get(from);
        if (v === undefined) throw new Error(`json patch: no value at ${String(op.from)}`);
        if (op.op === 'move') setAt(from, undefined, false);
        setAt(path, clone(v), true);
        break;
      }
      default:
        throw new Error(`unsupported json patch op ${JSON.stringify(op.op)}`);
    }
  }
  return doc;
}
