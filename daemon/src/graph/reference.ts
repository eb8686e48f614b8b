// Image references, normalised as Docker's distribution/reference does: `busybox` is
// docker.io/library/busybox:latest, `localhost:5000/x` keeps its registry, `name@sha256:…` pins a
// digest. Messages match dockerd's so clients print what users know.
import { invalidParameter } from '../errors';
import type { Reference } from './interfaces';

export const DEFAULT_DOMAIN = 'docker.io';
const OFFICIAL_PREFIX = 'library/';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HEX64 = /^[a-f0-9]{64}$/;

const formatError = () => invalidParameter('invalid reference format');

function splitDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + name];
  const first = name.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first) {
    return [DEFAULT_DOMAIN, name];
  }
  let domain = first;
  let remainder = name.slice(slash + 1);
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return [domain, remainder];
}

function familiarize(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  return path.startsWith(OFFICIAL_PREFIX) && !path.slice(OFFICIAL_PREFIX.length).includes('/') ? path.slice(OFFICIAL_PREFIX.length) : path;
}

function build(domain: string, path: string, tag?: string, digest?: string): Reference {
  const name = `${domain}/${path}`;
  const familiarName = familiarize(domain, path);
  const suffix = digest ? `@${digest}` : tag ? `:${tag}` : '';
  return { name, tag, digest, familiarName, familiar: familiarName + suffix, full: name + suffix };
}

/**
 * Parses a reference as the docker CLI writes it. Without tag or digest, `defaultTag` (latest)
 * is added unless it is `null`.
 */
export function parseReference(raw: string, defaultTag: string | null = 'latest'): Reference {
  if (raw === '' || raw.length > 255 + 128 + 72) throw formatError();
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw digest.startsWith('sha256:') ? invalidParameter('invalid checksum digest format') : formatError();
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw formatError();
  }
  if (rest === '') throw formatError();
  if (HEX64.test(rest) && !tag && !digest) {
    throw invalidParameter(`invalid repository name (${rest}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, path] = splitDomain(rest);
  if (!DOMAIN.test(domain)) throw formatError();
  const components = path.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      if (COMPONENT.test(c.toLowerCase())) throw invalidParameter(`invalid reference format: repository name (${path}) must be lowercase`);
      throw formatError();
    }
  }
  if (domain.length + 1 + path.length > 255) throw invalidParameter('invalid reference format: repository name must not be more than 255 characters');
  if (!tag && !digest && defaultTag !== null) tag = defaultTag;
  return build(domain, path, tag, digest);
}

/** A reference from a repository name and a separate tag (POST /images/{name}/tag, import). */
export function referenceWithTag(repo: string, tag: string | undefined): Reference {
  const base = parseReference(repo, null);
  if (base.digest) throw invalidParameter('refusing to create a tag with a digest reference');
  if (tag !== undefined && tag !== '') {
    if (base.tag) throw invalidParameter('invalid reference format');
    if (!TAG.test(tag)) throw invalidParameter(`invalid tag format`);
    return parseReference(`${base.name}:${tag}`);
  }
  return base.tag ? base : parseReference(base.name);
}

/** Tries to parse; undefined when the string is not a reference (a short id, say). */
export function tryParseReference(raw: string): Reference | undefined {
  try {
    return parseReference(raw);
  } catch {
    return undefined;
  }
}

/** ChainID(L₀) = DiffID(L₀); ChainID(Lₙ) = sha256(ChainID(Lₙ₋₁) + " " + DiffID(Lₙ)). */
export function chainIds(diffIds: string[], hash: (s: string) => string): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : hash(`${out[out.length - 1]} ${d}`));
  return out;
}
