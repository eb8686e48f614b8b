// Running the host's network tools (ip, nft, nsenter, unshare). Node has no netlink, so berthd
// speaks to the kernel through iproute2 and nft, batching commands to keep spawns few.
import { spawn } from 'node:child_process';
import { systemError } from '../../errors';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function command(file: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr: stderr.trim() }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs a command and throws a 500 naming what failed when it does not exit 0. */
export async function mustRun(what: string, file: string, args: string[], input?: string): Promise<string> {
  const r = await command(file, args, input);
  if (r.code !== 0) throw systemError(`${what}: ${r.stderr || `${file} exited with ${r.code}`}`);
  return r.stdout;
}

/** `ip -batch -`: many link/addr/route commands in one process. */
export function ipBatch(what: string, lines: string[], netns?: string): Promise<string> {
  const input = lines.join('\n') + '\n';
  if (netns) return mustRun(what, 'nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], input);
  return mustRun(what, 'ip', ['-batch', '-'], input);
}
