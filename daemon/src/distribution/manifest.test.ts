import { describe, expect, it } from 'vitest';
import { MediaType, hostPlatform, parseManifest, parsePlatform, platformMatches, selectPlatform, type ManifestList } from './manifest';

const list = (...platforms: Record<string, string>[]): ManifestList => ({
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: platforms.map((platform, i) => ({ mediaType: MediaType.ociManifest, digest: `sha256:${String(i).repeat(64)}`, size: 1, platform: platform as never })),
});

describe('platforms', () => {
  it('parses os/arch/variant with containerd\'s aliases', () => {
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/6')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v6' });
    expect(parsePlatform('linux/armhf')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux')).toEqual(hostPlatform());
    expect(() => parsePlatform('linux//arm')).toThrow(/unknown operating system or architecture/);
  });

  it('lets arm v7 run v6 images, but not the reverse', () => {
    expect(platformMatches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(true);
    expect(platformMatches(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v7' })).toBe(false);
    expect(platformMatches(parsePlatform('linux/amd64'), { os: 'windows', architecture: 'amd64' })).toBe(false);
  });

  it('chooses the exact variant before a compatible one, and says when nothing matches', () => {
    const l = list({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'amd64' });
    expect(selectPlatform(l, parsePlatform('linux/arm/v7')).platform?.variant).toBe('v7');
    expect(selectPlatform(l, parsePlatform('linux/amd64')).digest).toBe(l.manifests[2]!.digest);
    expect(() => selectPlatform(l, parsePlatform('linux/s390x'))).toThrow('no matching manifest for linux/s390x in the manifest list entries');
    // Attestation entries of buildkit ("unknown/unknown") are never chosen.
    expect(() => selectPlatform(list({ os: 'unknown', architecture: 'unknown' }), parsePlatform('linux/amd64'))).toThrow(/no matching manifest/);
  });
});

describe('manifests', () => {
  it('tells images from lists by media type, or by shape when OCI leaves it out', () => {
    const image = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: MediaType.ociConfig, digest: 'sha256:a', size: 1 }, layers: [] })), 'application/vnd.oci.image.manifest.v1+json', 'x');
    expect(image.kind).toBe('image');
    const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] })), undefined, 'x');
    expect(index).toMatchObject({ kind: 'list', mediaType: MediaType.ociIndex });
    const docker = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerList, manifests: [] })), 'application/json', 'x');
    expect(docker).toMatchObject({ kind: 'list', mediaType: MediaType.dockerList });
  });

  it('refuses schema 1 and bodies that are not manifests', () => {
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x' })), MediaType.schema1Signed, 'busybox:old')).toThrow(/schema 1/);
    expect(() => parseManifest(Buffer.from('<html>'), 'text/html', 'x')).toThrow(/not JSON/);
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest })), undefined, 'x')).toThrow(/no config or layers/);
  });
});
