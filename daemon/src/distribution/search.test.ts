import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { search } from './search';
import { RegistryHosts } from './hosts';

// Docker Hub cannot be reached here: a local index answers in its format.
describe('image search (Docker Hub format)', () => {
  let server: http.Server;
  let index: string;
  const queries: URLSearchParams[] = [];
  const hosts = new RegistryHosts(() => ({ registryMirrors: [], insecureRegistries: [], certsDir: '/nonexistent' }));

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      queries.push(url.searchParams);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({
        num_results: 3,
        query: url.searchParams.get('q'),
        results: [
          { name: 'busybox', description: 'Busybox base image.', star_count: 3037, is_official: true, is_automated: false },
          { name: 'someone/busybox', description: 'a copy', star_count: 3, is_official: false, is_automated: true },
          { name: 'other/busybox-tools', description: null, star_count: 40, is_official: false },
        ],
      }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    index = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('returns the results in the Engine API shape, asking the index for the term and limit', async () => {
    const results = await search(hosts, { term: 'busybox', limit: 10, filters: new Map(), credentials: {} }, index);
    expect(queries.at(-1)!.get('q')).toBe('busybox');
    expect(queries.at(-1)!.get('n')).toBe('10');
    expect(results).toEqual([
      { star_count: 3037, is_official: true, name: 'busybox', is_automated: false, description: 'Busybox base image.' },
      { star_count: 3, is_official: false, name: 'someone/busybox', is_automated: false, description: 'a copy' },
      { star_count: 40, is_official: false, name: 'other/busybox-tools', is_automated: false, description: '' },
    ]);
  });

  it('applies the stars and is-official filters and the limit', async () => {
    const starred = await search(hosts, { term: 'busybox', filters: new Map([['stars', ['10']]]), credentials: {} }, index);
    expect(starred.map((r) => r.name)).toEqual(['busybox', 'other/busybox-tools']);
    const official = await search(hosts, { term: 'busybox', filters: new Map([['is-official', ['false']]]), credentials: {} }, index);
    expect(official.map((r) => r.name)).toEqual(['someone/busybox', 'other/busybox-tools']);
    expect((await search(hosts, { term: 'busybox', limit: 1, filters: new Map(), credentials: {} }, index)).length).toBe(1);
  });

  it('refuses a limit outside 1..100 and unknown filters as dockerd does', async () => {
    await expect(search(hosts, { term: 'x', limit: 0, filters: new Map(), credentials: {} }, index)).rejects.toThrow('limit 0 is outside the range of [1, 100]');
    await expect(search(hosts, { term: 'x', filters: new Map([['stars', ['many']]]), credentials: {} }, index)).rejects.toThrow("invalid filter 'stars=many'");
  });
});
