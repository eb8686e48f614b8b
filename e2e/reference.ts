// The reference engine: Debian's dockerd on a private socket (../shared/tools/reference-dockerd), so
// tests and benchmarks can run the same request against both engines and compare.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './berthd';

export const referenceTool = path.resolve(repoRoot, '..', 'shared', 'tools', 'reference-dockerd');

/** Starts (or finds) the reference dockerd; undefined when the tool is not beside the repository. */
export function startReferenceDockerd(): { socket: string; env: NodeJS.ProcessEnv } | undefined {
  if (!existsSync(referenceTool)) return undefined;
  const out = execFileSync(referenceTool, ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  const m = /DOCKER_HOST=unix:\/\/(\S+)/.exec(out);
  if (!m) throw new Error(`reference-dockerd printed no DOCKER_HOST: ${out}`);
  return { socket: m[1]!, env: { ...process.env, DOCKER_HOST: `unix://${m[1]}` } };
}
