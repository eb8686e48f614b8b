// The build form's fields, checked the way the docker CLI checks `docker build`'s flags. Pure
// (shared by the renderer, which shows mistakes as they are typed, and main, which refuses them
// whatever the window sent); errors are sentences for the person typing.

/** A name component of a reference: lowercase alphanumerics joined by `.`, `_`, `__` or dashes. */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** A registry host: a domain or IPv4 (or [IPv6]), with an optional port. */
const DOMAIN = '(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const TAG = '[\\w][\\w.-]{0,127}';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?$`);
const MAX_NAME = 255;

/** Why `tag` is not a valid `-t` value, or undefined when it is (repo[:tag], no digest). */
export function tagProblem(tag: string): string | undefined {
  if (tag.includes('@')) return `invalid tag "${tag}": a tag cannot name a digest`;
  const m = REFERENCE.exec(tag);
  if (!m) {
    const name = tag.split(':')[0] ?? '';
    if (name !== name.toLowerCase() && REFERENCE.test(tag.toLowerCase())) return `invalid tag "${tag}": repository name must be lowercase`;
    return `invalid tag "${tag}": invalid reference format`;
  }
  const name = (m[1] ? `${m[1]}/` : '') + m[2];
  if (name.length > MAX_NAME) return `invalid tag "${tag}": repository name must not be more than ${MAX_NAME} characters`;
  return undefined;
}

/** The tags field: references separated by spaces, commas or lines; each must be valid. */
export function parseTags(text: string): string[] {
  const tags = text.split(/[\s,]+/).filter(Boolean);
  for (const t of tags) {
    const problem = tagProblem(t);
    if (problem) throw new Error(problem);
  }
  return [...new Set(tags)];
}

export interface BuildArgRow {
  key: string;
  value: string;
}

/** Why `key` cannot name a build arg, or undefined. */
export function buildArgProblem(key: string): string | undefined {
  if (key === '') return 'a build arg needs a name';
  if (/[=\s]/.test(key)) return `invalid build arg name "${key}": it cannot hold "=" or spaces`;
  return undefined;
}

/** The build arg rows as `--build-arg KEY=value` pairs; blank rows are skipped, a later row wins. */
export function parseBuildArgs(rows: BuildArgRow[]): Record<string, string> {
  const args = new Map<string, string>();
  for (const row of rows) {
    const key = row.key.trim();
    if (key === '' && row.value === '') continue;
    const problem = buildArgProblem(key);
    if (problem) throw new Error(problem);
    args.set(key, row.value);
  }
  // Own properties only: a name like __proto__ stays a build arg.
  return Object.fromEntries(args);
}

/** Why `target` cannot name a build stage (`FROM … AS name`), or undefined. */
export function targetProblem(target: string): string | undefined {
  return /^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(target) ? undefined : `invalid target "${target}": a stage name starts with a letter and holds letters, digits, ".", "_" and "-"`;
}

/**
 * Whether a file name looks like a Dockerfile: `Dockerfile`, `Dockerfile.dev`, `dev.Dockerfile`,
 * `x.dockerfile`, and podman's `Containerfile`, which is the same language.
 */
export function isDockerfileName(name: string): boolean {
  return /dockerfile|containerfile/i.test(name) && !/\.dockerignore$/i.test(name);
}

/** Why `file` cannot be the Dockerfile's path in the context (relative, `/`-separated, inside it). */
export function dockerfilePathProblem(file: string): string | undefined {
  if (file === '') return 'choose the Dockerfile';
  if (file.startsWith('/') || /^[a-zA-Z]:/.test(file) || file.includes('\\')) return `the Dockerfile "${file}" must be a path relative to the context folder, with "/" between folders`;
  if (file.split('/').some((part) => part === '..' || part === '')) return `the Dockerfile "${file}" must be inside the context folder`;
  return undefined;
}
