// The build context folder on the machine where main runs: a typed or picked path checked the
// way the docker CLI checks `docker build PATH`, the Dockerfiles found in it, and the check that a
// chosen Dockerfile is a file inside it (not reached through a symlink that leads elsewhere).
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { dockerfilePathProblem, isDockerfileName } from '../../shared/build-form.js';
import type { BuildContextView } from '../../shared/views.js';
import { EngineError } from '../engine/engine-error.js';

/** How deep and how wide the Dockerfile search goes, so a huge folder answers quickly. */
const SEARCH_DEPTH = 3;
const SEARCH_FOLDERS = 2000;
const MAX_CANDIDATES = 200;
/** Folders that hold dependencies or history, never the project's Dockerfiles. */
const SKIPPED = new Set(['node_modules', '.git', '.hg', '.svn', 'vendor', '__pycache__', '.venv']);

/** The folder's absolute, symlink-free path; a 400 or 404 worded like the CLI's when it cannot be a context. */
export async function resolveContextFolder(given: string): Promise<string> {
  const typed = given.trim();
  if (typed === '') throw new EngineError(400, 'choose the context folder: the folder that holds what the Dockerfile copies');
  // A person typing a path in web mode writes ~ for their home, as in a shell.
  const expanded = typed === '~' || typed.startsWith('~/') ? path.join(homedir(), typed.slice(1)) : typed;
  if (!path.isAbsolute(expanded)) throw new EngineError(400, `the context folder must be an absolute path, like ${path.join(homedir(), 'project')}`);
  let real: string;
  try {
    real = await realpath(expanded);
  } catch {
    throw new EngineError(404, `unable to prepare context: path "${typed}" not found`);
  }
  const st = await stat(real);
  if (!st.isDirectory()) throw new EngineError(400, `unable to prepare context: context must be a directory: ${real}`);
  return real;
}

/** The folder and its Dockerfile candidates: the root's `Dockerfile` first, then by depth and name. */
export async function inspectContextFolder(given: string): Promise<BuildContextView> {
  const folder = await resolveContextFolder(given);
  const found: string[] = [];
  let visited = 0;
  let level = [''];
  for (let depth = 0; depth <= SEARCH_DEPTH && level.length && found.length < MAX_CANDIDATES; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (++visited > SEARCH_FOLDERS) break;
      const entries = await readdir(path.join(folder, dir), { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory() && !SKIPPED.has(e.name)) next.push(rel);
        else if (e.isFile() && isDockerfileName(e.name) && found.length < MAX_CANDIDATES) found.push(rel);
      }
    }
    level = next;
  }
  const dockerfiles = found.includes('Dockerfile') ? ['Dockerfile', ...found.filter((f) => f !== 'Dockerfile')] : found;
  const ignore = await lstat(path.join(folder, '.dockerignore')).then((s) => s.isFile(), () => false);
  return { path: folder, dockerfiles, dockerignore: ignore };
}

/** Checks that `dockerfile` names a regular file inside `folder` (already resolved). */
export async function checkDockerfile(folder: string, dockerfile: string): Promise<void> {
  const problem = dockerfilePathProblem(dockerfile);
  if (problem) throw new EngineError(400, problem);
  const file = path.join(folder, ...dockerfile.split('/'));
  const missing = new EngineError(404, `Cannot locate specified Dockerfile: ${dockerfile}`);
  const real = await realpath(file).catch(() => { throw missing; });
  // Sent as it lies in the folder: through a symlinked folder the engine would not find it.
  if (real !== file) throw new EngineError(400, `the Dockerfile "${dockerfile}" is reached through a symlink; choose the file itself, inside the context folder`);
  if (!(await stat(real)).isFile()) throw missing;
}
