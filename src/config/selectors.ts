import type { LabelSelector } from './types.js';

/** Kubernetes label selector semantics (`metav1.LabelSelector`); an empty selector matches everything. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** True when any selector matches; `emptyMeans` is the answer for an absent or empty list. */
export function matchesAnySelector(
  selectors: readonly LabelSelector[] | undefined,
  labels: Readonly<Record<string, string>> | undefined,
  emptyMeans = true,
): boolean {
  if (!selectors || selectors.length === 0) return emptyMeans;
  return selectors.some((s) => matchesSelector(s, labels ?? {}));
}
