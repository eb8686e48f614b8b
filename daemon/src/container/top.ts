// `docker top`: the host's `ps` output restricted to the container's processes (the pids of
// its cgroup), as dockerd does it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { invalidParameter, systemError } from '../errors';
import type { CgroupPaths } from '../drivers/exec/cgroups';

const run = promisify(execFile);

export async function cgroupPids(cg: CgroupPaths): Promise<number[]> {
  const dir = cg.v1.pids ?? cg.v1.memory ?? cg.v1.cpu ?? cg.unified;
  if (!dir) return [];
  const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

export async function top(cg: CgroupPaths, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
  const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
  let stdout: string;
  try {
    ({ stdout } = await run('ps', args, { maxBuffer: 16 << 20 }));
  } catch (err) {
    throw systemError(`ps: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, err);
  }
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  const pidIndex = header.indexOf('PID');
  if (pidIndex < 0) throw invalidParameter('Couldn\'t find PID field in ps output');
  const pids = new Set(await cgroupPids(cg));
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const pid = Number(fields[pidIndex]);
    if (!pids.has(pid)) continue;
    // The last column (the command) keeps its spaces.
    const head = fields.slice(0, header.length - 1);
    head.push(fields.slice(header.length - 1).join(' '));
    processes.push(head);
  }
  return { Titles: header, Processes: processes };
}
