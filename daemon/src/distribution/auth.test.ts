import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authorizer, clearTokenCache, decodeAuthHeader, parseChallenges, registryErrorMessage } from './auth';

describe('credentials and challenges', () => {
  it('decodes X-Registry-Auth (base64url JSON), filling user and password from `auth`', () => {
    const header = Buffer.from(JSON.stringify({ auth: Buffer.from('alice:pa:ss').toString('base64'), serveraddress: 'r:5000' })).toString('base64url');
    expect(decodeAuthHeader(header)).toMatchObject({ username: 'alice', password: 'pa:ss', serveraddress: 'r:5000' });
    expect(decodeAuthHeader(undefined)).toEqual({});
    expect(decodeAuthHeader('e30=')).toEqual({});
    expect(() => decodeAuthHeader('not json!')).toThrow(/invalid X-Registry-Auth header/);
  });

  it('parses bearer and basic challenges, quoted values with commas included', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
    ]);
    expect(parseChallenges(['Basic realm="berth-test"', 'Negotiate'])).toEqual([{ scheme: 'basic', params: { realm: 'berth-test' } }]);
  });

  it('words registry errors as dockerd prints errcode errors', () => {
    const one = Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nope' } }] }));
    expect(registryErrorMessage(one, 404)).toBe('manifest unknown: manifest unknown');
    const two = Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no' }, { code: 'UNAUTHORIZED', message: 'who' }] }));
    expect(registryErrorMessage(two, 403)).toBe('errors:\ndenied: no\nunauthorized: who\n');
    expect(registryErrorMessage(Buffer.from(''), 401)).toBe('unauthorized: authentication required');
  });
});

describe('bearer tokens from a token server', () => {
  let server: http.Server;
  let realm: string;
  const seen: { method: string; scopes: string[]; account?: string; refresh?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        if (req.method === 'POST') {
          const form = new URLSearchParams(body);
          seen.push({ method: 'POST', scopes: (form.get('scope') ?? '').split(' ').filter(Boolean), refresh: form.get('refresh_token') ?? undefined });
          if (form.get('refresh_token') !== 'r1') return res.writeHead(401).end(JSON.stringify({ details: 'bad refresh token' }));
          return res.end(JSON.stringify({ access_token: `t${seen.length}`, expires_in: 300 }));
        }
        const auth = req.headers.authorization;
        const account = auth ? Buffer.from(auth.slice(6), 'base64').toString().split(':')[0] : undefined;
        seen.push({ method: 'GET', scopes: url.searchParams.getAll('scope'), account });
        if (auth && Buffer.from(auth.slice(6), 'base64').toString() !== 'alice:s3cret') return res.writeHead(401).end(JSON.stringify({ details: 'incorrect username or password' }));
        res.end(JSON.stringify({ token: `t${seen.length}`, expires_in: 300, ...(url.searchParams.get('offline_token') ? { refresh_token: 'r1' } : {}) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const challenge = () => `Bearer realm="${realm}",service="reg"`;

  it('fetches a token per scope and serves the same scope from its cache', async () => {
    clearTokenCache();
    seen.length = 0;
    const a = new Authorizer({ username: 'alice', password: 's3cret' }, 'reg');
    expect(a.learn(challenge())).toBe(true);
    const first = await a.header(['repository:x:pull']);
    expect(first).toBe('Bearer t1');
    expect(await a.header(['repository:x:pull'])).toBe('Bearer t1');
    expect(await new Authorizer({ username: 'alice', password: 's3cret' }, 'reg').header(['repository:x:pull'])).toBeUndefined();
    const b = new Authorizer({ username: 'alice', password: 's3cret' }, 'reg');
    b.learn(challenge());
    expect(await b.header(['repository:x:pull'])).toBe('Bearer t1');
    expect(await a.header(['repository:y:pull,push'])).toBe('Bearer t2');
    expect(seen).toEqual([{ method: 'GET', scopes: ['repository:x:pull'], account: 'alice' }, { method: 'GET', scopes: ['repository:y:pull,push'], account: 'alice' }]);
  });

  it('keeps the refresh token of an offline fetch and exchanges an identity token with POST', async () => {
    clearTokenCache();
    seen.length = 0;
    const login = new Authorizer({ username: 'alice', password: 's3cret' }, 'reg');
    login.learn(challenge());
    await login.header([], undefined, { offline: true });
    expect(login.identityToken()).toBe('r1');
    const withToken = new Authorizer({ identitytoken: 'r1' }, 'reg');
    withToken.learn(challenge());
    expect(await withToken.header(['repository:x:pull'])).toBe('Bearer t2');
    expect(seen[1]).toEqual({ method: 'POST', scopes: ['repository:x:pull'], refresh: 'r1' });
  });

  it('says unauthorized, in the token server\'s words, for a wrong password', async () => {
    clearTokenCache();
    const a = new Authorizer({ username: 'alice', password: 'nope' }, 'reg');
    a.learn(challenge());
    await expect(a.header(['repository:x:pull'])).rejects.toMatchObject({ status: 401, message: 'unauthorized: incorrect username or password' });
  });
});
