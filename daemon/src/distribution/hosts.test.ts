import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RegistryHosts } from './hosts';

describe('registry endpoints', () => {
  const certsDir = mkdtempSync(path.join(tmpdir(), 'berth-certs-'));
  afterAll(() => rmSync(certsDir, { recursive: true, force: true }));
  const hosts = (insecureRegistries: string[] = [], registryMirrors: string[] = []) => new RegistryHosts(() => ({ insecureRegistries, registryMirrors, certsDir }));

  it('treats loopback as insecure by default, as dockerd does, and others by name or CIDR', async () => {
    expect(await hosts().isInsecure('127.0.0.1:5000')).toBe(true);
    expect(await hosts().isInsecure('localhost:5000')).toBe(true);
    expect(await hosts().isInsecure('10.1.2.3:5000')).toBe(false);
    expect(await hosts(['10.0.0.0/8']).isInsecure('10.1.2.3:5000')).toBe(true);
    expect(await hosts(['myregistry.test:5000']).isInsecure('myregistry.test:5000')).toBe(true);
  });

  it('tries HTTPS then plain HTTP for an insecure registry, HTTPS only for the others', async () => {
    expect((await hosts().endpoints('127.0.0.1:5000', 'pull')).map((e) => e.origin)).toEqual(['https://127.0.0.1:5000', 'http://127.0.0.1:5000']);
    expect((await hosts().endpoints('ghcr.io', 'pull')).map((e) => e.origin)).toEqual(['https://ghcr.io']);
  });

  it('pulls docker.io through its mirrors first; pushes go to Docker Hub itself', async () => {
    const h = hosts([], ['http://127.0.0.1:5555', 'mirror.test']);
    const pull = await h.endpoints('docker.io', 'pull');
    expect(pull.map((e) => [e.origin, e.mirror])).toEqual([['http://127.0.0.1:5555', true], ['https://mirror.test', true], ['https://registry-1.docker.io', false]]);
    expect((await h.endpoints('docker.io', 'push')).map((e) => e.origin)).toEqual(['https://registry-1.docker.io']);
  });

  it('reads a registry\'s CA and client certificate from certs.d/HOST:PORT', async () => {
    const dir = path.join(certsDir, 'reg.test:5000');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'ca.crt'), 'CA');
    writeFileSync(path.join(dir, 'client.cert'), 'CERT');
    writeFileSync(path.join(dir, 'client.key'), 'KEY');
    expect((await hosts().endpoints('reg.test:5000', 'pull'))[0]!.tls).toEqual({ ca: ['CA'], cert: 'CERT', key: 'KEY' });
    rmSync(path.join(dir, 'client.key'));
    expect(() => hosts().tlsFor('reg.test:5000')).toThrow(/missing key client.key/);
    expect(hosts().tlsFor('other.test')).toBeUndefined();
  });
});
