// The `filters` query parameter: JSON of `{"key": {"value": true}}` (or the older
// `{"key": ["value"]}`), validated against the keys a route accepts, as dockerd does.
import { invalidParameter } from '../errors';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: string | null, allowed: readonly string[]): Filters {
  const filters: Filters = new Map();
  if (!raw) return filters;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw invalidParameter(`invalid filter: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParameter('invalid filter: filters must be a JSON object');
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw invalidParameter(`invalid filter '${key}'`);
    let values: string[];
    if (Array.isArray(value)) values = value.map(String);
    else if (value && typeof value === 'object') values = Object.entries(value).filter(([, on]) => on).map(([v]) => v);
    else throw invalidParameter(`invalid filter '${key}': values must be a map or a list`);
    filters.set(key, values);
  }
  return filters;
}

/** True when the filter is absent or one of its values satisfies the test. */
export function matchesAny(filters: Filters, key: string, test: (value: string) => boolean): boolean {
  const values = filters.get(key);
  if (!values || values.length === 0) return true;
  return values.some(test);
}

/** `label=key` or `label=key=value` against a label map. */
export function matchesLabels(filters: Filters, labels: Record<string, string> | undefined, key = 'label'): boolean {
  const values = filters.get(key);
  if (!values) return true;
  return values.every((v) => {
    const eq = v.indexOf('=');
    if (eq < 0) return labels !== undefined && v in labels;
    return labels !== undefined && labels[v.slice(0, eq)] === v.slice(eq + 1);
  });
}
