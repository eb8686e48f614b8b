// Running the host's network tools (ip, nft, nsenter, unshare). Node has no netlink, so berthd
// speaks to the kernel through iproute2 and nft, batching commands to keep spawns few.
import { systemError } from '../../errors';
import { runCommand } from '../spawner/spawner';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function command(file: string, args: string[], input?: string): Promise<CommandResult> {
  const r = await runCommand(file, args, { input });
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString().trim() };
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
