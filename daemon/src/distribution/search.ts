// GET /images/search: Docker Hub's v1 search (or a registry's own, when the term names one), with
// dockerd's `is-official` and `stars` filters and its limit of 1 to 100 results.
import { send, readBody, type Endpoint } from './transport';
import type { RegistryHosts } from './hosts';
import type { AuthConfig } from './auth';
import { invalidParameter, systemError } from '../errors';

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export interface SearchQuery {
  term: string;
  limit?: number;
  filters: Map<string, string[]>;
  credentials: AuthConfig;
  signal?: AbortSignal;
}

export const HUB_INDEX = 'https://index.docker.io';

/** `registry/term` searches that registry; a bare term searches Docker Hub (`index`). */
function split(term: string): { registry?: string; query: string } {
  const slash = term.indexOf('/');
  if (slash > 0) {
    const first = term.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') return { registry: first, query: term.slice(slash + 1) };
  }
  return { query: term };
}

export async function search(hosts: RegistryHosts, q: SearchQuery, index = HUB_INDEX): Promise<SearchResult[]> {
  const limit = q.limit ?? 25;
  if (limit < 1 || limit > 100) throw invalidParameter(`limit ${limit} is outside the range of [1, 100]`);
  const stars = q.filters.get('stars') ?? [];
  const official = q.filters.get('is-official') ?? [];
  for (const s of stars) if (!/^\d+$/.test(s)) throw invalidParameter(`invalid filter 'stars=${s}'`);
  for (const o of official) if (!['true', 'false', '1', '0'].includes(o)) throw invalidParameter(`invalid filter 'is-official=${o}'`);
  for (const key of q.filters.keys()) if (!['stars', 'is-official', 'is-automated'].includes(key)) throw invalidParameter(`invalid filter '${key}'`);

  const { registry, query } = split(q.term);
  let endpoint: Endpoint | undefined;
  let origin = index;
  if (registry) {
    const candidates = await hosts.endpoints(registry, 'login');
    endpoint = candidates[0];
    origin = endpoint!.origin;
  }
  const url = `${origin}/v1/search?q=${encodeURIComponent(query)}&n=${limit}`;
  const res = await send(endpoint, url, { method: 'GET', signal: q.signal });
  const body = await readBody(res);
  if (res.statusCode !== 200) throw systemError(`Unexpected status code ${res.statusCode}`);
  let results: SearchResult[];
  try {
    results = ((JSON.parse(body.toString('utf8')) as { results?: SearchResult[] }).results ?? []);
  } catch {
    throw systemError(`the search service at ${origin} answered with something that is not JSON`);
  }
  const minStars = stars.length > 0 ? Math.max(...stars.map(Number)) : 0;
  return results
    .filter((r) => r.star_count >= minStars)
    .filter((r) => official.length === 0 || official.some((o) => (o === 'true' || o === '1') === Boolean(r.is_official)))
    .slice(0, limit)
    .map((r) => ({ star_count: r.star_count ?? 0, is_official: Boolean(r.is_official), name: r.name, is_automated: false, description: r.description ?? '' }));
}
