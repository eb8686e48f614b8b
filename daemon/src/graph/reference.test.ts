import { describe, it, expect } from 'vitest';
import { parseReference, referenceWithTag } from './reference';

describe('parseReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io/library/busybox:x', 'busybox:x'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['localhost/x:1', 'localhost/x:1', 'localhost/x:1'],
    ['ghcr.io/org/team/app:v1.2', 'ghcr.io/org/team/app:v1.2', 'ghcr.io/org/team/app:v1.2'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, `busybox@sha256:${'a'.repeat(64)}`],
  ])('normalises %s', (raw, full, familiar) => {
    const ref = parseReference(raw);
    expect(ref.full).toBe(full);
    expect(ref.familiar).toBe(familiar);
  });

  it('refuses what Docker refuses, with its words', () => {
    expect(() => parseReference('Busybox')).toThrow(/repository name \(library\/Busybox\) must be lowercase/);
    expect(() => parseReference('bad name')).toThrow(/invalid reference format/);
    expect(() => parseReference('x:bad tag')).toThrow(/invalid reference format/);
    expect(() => parseReference('a'.repeat(64))).toThrow(/cannot specify 64-byte hexadecimal strings/);
    expect(() => parseReference('x@sha256:abc')).toThrow(/invalid checksum digest format/);
    expect(() => parseReference('')).toThrow(/invalid reference format/);
  });

  it('keeps the tag out when asked (repository names)', () => {
    expect(parseReference('busybox', null).tag).toBeUndefined();
  });

  it('combines a repository and a tag as POST /images/{name}/tag does', () => {
    expect(referenceWithTag('myrepo', 'v1').full).toBe('docker.io/library/myrepo:v1');
    expect(referenceWithTag('myrepo', undefined).full).toBe('docker.io/library/myrepo:latest');
    expect(referenceWithTag('localhost:5000/x:2', undefined).full).toBe('localhost:5000/x:2');
    expect(() => referenceWithTag('x', 'bad tag')).toThrow(/invalid tag format/);
  });
});
