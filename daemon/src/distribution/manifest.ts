// Registry manifests: Docker schema 2 and OCI image manifests, Docker manifest lists and OCI
// indexes, and the choice of one platform's manifest in a list (the host's by default, or what
// `--platform` asked for), as dockerd's platform matcher chooses.
import { invalidParameter, notFound } from '../errors';
import type { Digest } from '../graph/interfaces';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a pull asks the registry for, in preference order (as dockerd's Accept header). */
export const ACCEPTED_MANIFESTS = [MediaType.dockerManifest, MediaType.dockerList, MediaType.ociManifest, MediaType.ociIndex];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ManifestList {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type Manifest = ({ kind: 'image' } & ImageManifest) | ({ kind: 'list' } & ManifestList);

/**
 * Parses a manifest body by the Content-Type the registry sent (falling back to the body's own
 * mediaType, which OCI makes optional). Schema 1 is refused as dockerd 28 refuses it.
 */
export function parseManifest(body: Buffer, contentType: string | undefined, what: string): Manifest {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidParameter(`the registry sent an invalid manifest for ${what}: not JSON`);
  }
  const declared = (contentType ?? '').split(';')[0]!.trim();
  let type = typeof json.mediaType === 'string' ? json.mediaType : declared;
  if (type === '' || type === 'application/json' || type === 'text/plain') {
    type = Array.isArray(json.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  if (type === MediaType.schema1 || type === MediaType.schema1Signed || json.schemaVersion === 1) {
    throw invalidParameter(`${what} is a schema 1 image manifest, which is no longer supported: push it again with a current docker or skopeo`);
  }
  if (type === MediaType.dockerList || type === MediaType.ociIndex) {
    if (!Array.isArray(json.manifests)) throw invalidParameter(`the registry sent an invalid manifest list for ${what}: no manifests`);
    return { kind: 'list', ...(json as unknown as ManifestList), mediaType: type };
  }
  if (type === MediaType.dockerManifest || type === MediaType.ociManifest) {
    const m = json as unknown as ImageManifest;
    if (!m.config || typeof m.config.digest !== 'string' || !Array.isArray(m.layers)) {
      throw invalidParameter(`the registry sent an invalid image manifest for ${what}: no config or layers`);
    }
    return { kind: 'image', ...m, mediaType: type };
  }
  throw invalidParameter(`unsupported manifest media type ${JSON.stringify(type)} for ${what}`);
}

/** Node's names for the architecture → the OCI names registries use. */
const ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsle', loong64: 'loong64' };

/** The host's platform as registries name it. */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = `v${(process.config.variables as { arm_version?: string }).arm_version ?? '7'}`;
  return p;
}

/** Aliases containerd's platforms.Normalize accepts: `x86_64`, `aarch64`, `armhf`, … */
function normalizeArch(arch: string, variant: string | undefined): [string, string | undefined] {
  switch (arch) {
    case 'i386': return ['386', undefined];
    case 'x86_64': case 'x86-64': return ['amd64', undefined];
    case 'aarch64': return ['arm64', variant === '8' || variant === undefined ? 'v8' : variant];
    case 'arm64': return ['arm64', variant === '8' || variant === undefined ? 'v8' : variant];
    case 'armhf': return ['arm', 'v7'];
    case 'armel': return ['arm', 'v6'];
    case 'arm': return ['arm', variant === undefined ? 'v7' : /^\d+$/.test(variant) ? `v${variant}` : variant];
    default: return [arch, variant];
  }
}

/** Parses `os[/arch[/variant]]` (or `arch` alone, as containerd does) into a normalised platform. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  if (parts.some((p) => p === '' || !/^[a-z0-9_.-]+$/.test(p)) || parts.length > 3) {
    throw invalidParameter(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  const host = hostPlatform();
  const knownOs = ['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'android', 'ios', 'js', 'wasip1', 'plan9', 'dragonfly'];
  let os: string;
  let arch: string;
  let variant: string | undefined;
  if (parts.length === 1) {
    if (knownOs.includes(parts[0]!)) {
      os = parts[0]!;
      arch = host.architecture;
      variant = host.variant;
    } else {
      os = host.os;
      arch = parts[0]!;
    }
  } else {
    [os, arch, variant] = parts as [string, string, string | undefined];
  }
  const [a, v] = normalizeArch(arch, variant);
  const p: Platform = { os, architecture: a };
  if (v) p.variant = v;
  return p;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * Whether an image of platform `candidate` runs on `wanted`: same os and architecture, and a
 * variant that `wanted` can run (arm v7 runs v6 and v5; arm64 v8 is the default).
 */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const [ca, cv] = normalizeArch(candidate.architecture, candidate.variant);
  const [wa, wv] = normalizeArch(wanted.architecture, wanted.variant);
  if (candidate.os !== wanted.os || ca !== wa) return false;
  if (!wv || !cv || wv === cv) return true;
  if (wa === 'arm') return Number(cv.slice(1)) <= Number(wv.slice(1));
  return false;
}

/** Best entry of a list for `wanted`: an exact variant before a compatible one, first one wins ties. */
export function selectPlatform(list: ManifestList, wanted: Platform): Descriptor {
  const candidates = list.manifests.filter((d) => d.platform && platformMatches(wanted, d.platform));
  // Attestation manifests (buildkit's "unknown/unknown") never match a real platform.
  const exact = candidates.find((d) => normalizeArch(d.platform!.architecture, d.platform!.variant)[1] === normalizeArch(wanted.architecture, wanted.variant)[1]);
  const chosen = exact ?? candidates[0];
  if (!chosen) throw notFound(`no matching manifest for ${formatPlatform(wanted)} in the manifest list entries`);
  return chosen;
}
