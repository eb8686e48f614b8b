import { describe, expect, it } from 'vitest';
import { Router, type Route } from './router';

const noop = async () => undefined;
const routes: Route[] = [
  { method: 'GET', path: '/containers/json', handler: noop },
  { method: 'GET', path: '/containers/{id}/json', handler: noop },
  { method: 'GET', path: '/images/{name:.*}/json', handler: noop },
  { method: 'POST', path: '/images/{name:.*}/tag', handler: noop },
  { method: 'HEAD', path: '/_ping', handler: noop },
];

describe('Router', () => {
  const router = new Router(routes);

  it('matches a fixed path by method and path', () => {
    expect(router.match('GET', '/containers/json')?.route.path).toBe('/containers/json');
    expect(router.match('POST', '/containers/json')).toBeUndefined();
  });

  it('prefers earlier, more specific routes over parameterised ones', () => {
    // "json" could be an id; the fixed route listed first wins.
    expect(router.match('GET', '/containers/json')?.route.path).toBe('/containers/json');
  });

  it('binds one-segment parameters and refuses slashes in them', () => {
    expect(router.match('GET', '/containers/abc123/json')?.params).toEqual({ id: 'abc123' });
    expect(router.match('GET', '/containers/a/b/json')).toBeUndefined();
  });

  it('binds rest-of-path parameters across slashes, for image names', () => {
    expect(router.match('GET', '/images/localhost:5000/team/app:1.0/json')?.params).toEqual({ name: 'localhost:5000/team/app:1.0' });
    expect(router.match('POST', '/images/busybox/tag')?.params).toEqual({ name: 'busybox' });
  });

  it('decodes percent-encoded parameters', () => {
    expect(router.match('GET', '/images/sha256%3Aabc/json')?.params.name).toBe('sha256:abc');
  });

  it('treats dots in fixed segments literally', () => {
    const r = new Router([{ method: 'GET', path: '/a.b', handler: noop }]);
    expect(r.match('GET', '/a.b')).toBeDefined();
    expect(r.match('GET', '/axb')).toBeUndefined();
  });
});
