// What Node cannot do itself while unpacking a layer: device nodes and fifos (mknod) and extended
// attributes (setxattr). They are collected per layer and made in one batch, one process each,
// so a layer with thousands of whiteouts costs two spawns rather than thousands.
import { spawn } from 'node:child_process';
import { systemError } from '../../errors';

export interface SpecialFile {
  /** Path relative to the layer root. */
  path: string;
  kind: 'c' | 'b' | 'p';
  mode: number;
  major: number;
  minor: number;
}

export interface Xattr {
  path: string;
  name: string;
  value: Buffer;
}

function run(command: string, args: string[], cwd: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => reject(systemError(`cannot run ${command} to unpack a layer: ${err.message} (is it installed? run scripts/setup.sh)`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(systemError(`${command} failed while unpacking a layer: ${stderr.trim() || `exit ${code}`}`))));
    child.stdin.end(input);
  });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Creates the device nodes and fifos under `root` (paths relative to it). */
export async function makeSpecialFiles(root: string, files: SpecialFile[]): Promise<void> {
  if (files.length === 0) return;
  // `--` and the relative paths ("./x") keep names that start with "-" from being read as options.
  const lines = files.map((f) => {
    const mode = (f.mode & 0o7777).toString(8);
    const dev = f.kind === 'p' ? '' : ` ${f.major} ${f.minor}`;
    return `mknod -m ${mode} -- ${shellQuote('./' + f.path)} ${f.kind}${dev}`;
  });
  await run('sh', ['-e', '-s'], root, lines.join('\n') + '\n');
}

/** getfattr's dump format escapes bytes that are not printable as \ooo; setfattr reads it back. */
function escapePath(p: string): string {
  let out = '';
  for (const byte of Buffer.from(p, 'utf8')) {
    if (byte < 0x21 || byte > 0x7e || byte === 0x5c || byte === 0x3d || byte === 0x22) out += '\\' + byte.toString(8).padStart(3, '0');
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** Sets extended attributes on paths under `root`, never following symlinks. */
export async function setXattrs(root: string, attrs: Xattr[]): Promise<void> {
  if (attrs.length === 0) return;
  let dump = '';
  for (const a of attrs) {
    dump += `# file: ${escapePath('./' + a.path)}\n${escapePath(a.name)}=0s${a.value.toString('base64')}\n\n`;
  }
  await run('setfattr', ['-h', '--restore=-'], root, dump);
}
