// Mounting and unmounting: Node has no mount(2), so through the spawner's builtins (the system
// call in a forked child), or util-linux's mount(8) where there is no spawner.
import { readFileSync } from 'node:fs';
import { systemError } from '../../errors';
import { runBuiltin, runCommand } from '../spawner/spawner';

export async function run(command: string, args: string[], cwd?: string): Promise<{ code: number; stderr: string }> {
  const r = await runCommand(command, args, { cwd });
  return { code: r.code, stderr: r.stderr.toString().trim() };
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function isMounted(target: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const line of info.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4 && unescape(fields[4]!) === target) return true;
  }
  return false;
}

async function builtin(builtinArgs: string[], command: string[], cwd?: string): Promise<{ code: number; stderr: string }> {
  const r = await runBuiltin(builtinArgs, command, { cwd });
  return { code: r.code, stderr: r.stderr.toString().trim() };
}

export async function mountOverlay(cwd: string, options: string, target: string): Promise<void> {
  const r = await builtin(['mount', 'overlay', 'overlay', target, options], ['mount', '-t', 'overlay', 'overlay', '-o', options, target], cwd);
  if (r.code !== 0) throw systemError(`error mounting the container's root filesystem (overlay on ${target}): ${r.stderr}`);
}

export async function unmount(target: string): Promise<void> {
  if (!isMounted(target)) return;
  let r = await builtin(['umount', target], ['umount', target]);
  // A process still using it (a shell cd'ed in) would keep it busy: detach it instead of failing.
  if (r.code !== 0 && isMounted(target)) r = await builtin(['umount', target, '--lazy'], ['umount', '-l', target]);
  if (r.code !== 0 && isMounted(target)) throw systemError(`error unmounting ${target}: ${r.stderr}`);
}
