// A build context folder as the tar the engine reads, made the way the docker CLI makes it: the
// folder walked in name order without following symlinks, what .dockerignore leaves out not sent
// (the Dockerfile and .dockerignore always are), owners set to root, hard links kept as links.
// The tar is streamed as it is made, so a large context never sits in memory.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pack as tarPack, type Headers, type Pack } from 'tar-stream';
import { IgnoreRules } from './dockerignore.js';

/** The rules of the folder's .dockerignore, keeping the Dockerfile and .dockerignore themselves. */
export async function contextRules(root: string, dockerfile: string): Promise<IgnoreRules> {
  let text = '';
  try {
    text = await readFile(path.join(root, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`error checking context: cannot read .dockerignore: ${(err as Error).message}`);
  }
  let rules: IgnoreRules;
  try {
    rules = IgnoreRules.parse(text);
  } catch (err) {
    throw new Error(`error parsing .dockerignore: ${(err as Error).message}`);
  }
  return rules.keeping([dockerfile, '.dockerignore']);
}

export interface ContextStream {
  /** The tar, ready to be sent. */
  tar: Readable;
  /** Bytes of tar read so far (the CLI's "Sending build context"). */
  sent(): number;
}

/** Streams `root` as a build context tar; a file that cannot be read fails the stream with its path. */
export function packContext(root: string, rules: IgnoreRules): ContextStream {
  const pack = tarPack();
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  pack.on('error', (err: Error) => counter.destroy(err));
  // Closing the request (a cancel) stops the walk: the pack refuses further entries.
  counter.on('close', () => { if (!pack.destroyed) pack.destroy(); });
  pack.pipe(counter);
  walk(pack, root, '', rules, new Map()).then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return { tar: counter, sent: () => bytes };
}

async function walk(pack: Pack, root: string, dir: string, rules: IgnoreRules, links: Map<string, string>): Promise<void> {
  const names = (await readdir(path.join(root, dir)).catch((err: Error) => { throw unreadable(path.join(root, dir), err); })).sort();
  for (const name of names) {
    if (pack.destroyed) return;
    const rel = dir ? `${dir}/${name}` : name;
    const abs = path.join(root, rel);
    const st = await lstat(abs).catch((err: Error) => { throw unreadable(abs, err); });
    const excluded = rules.excludes(rel);
    if (st.isDirectory()) {
      // A left-out folder is still walked when a `!` rule may bring back something below it.
      if (excluded && !rules.mayKeepBelow(rel)) continue;
      if (!excluded) await add(pack, { ...header(st), name: `${rel}/`, type: 'directory' });
      await walk(pack, root, rel, rules, links);
      continue;
    }
    if (excluded) continue;
    if (st.isSymbolicLink()) {
      await add(pack, { ...header(st), name: rel, type: 'symlink', linkname: await readlink(abs) });
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(inode) : undefined;
      if (first) {
        await add(pack, { ...header(st), name: rel, type: 'link', linkname: first });
        continue;
      }
      if (st.nlink > 1) links.set(inode, rel);
      await addFile(pack, abs, { ...header(st), name: rel, type: 'file', size: st.size });
    }
    // Sockets, fifos and devices are left out: nothing a Dockerfile copies, and a fifo would block the read.
  }
}

/** The CLI's header: permission bits, owner root, the file's mtime. */
function header(st: { mode: number; mtime: Date }): Headers {
  let mode = st.mode & 0o7777;
  // Windows has no permission bits worth sending; the CLI sends everything as executable 0755.
  if (process.platform === 'win32') mode = (mode & 0o755) | 0o111;
  return { name: '', mode, uid: 0, gid: 0, uname: '', gname: '', mtime: st.mtime };
}

/** Streams one file into the tar; a tar closed meanwhile (a cancel) closes the file too. */
function addFile(pack: Pack, file: string, h: Headers): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const source = createReadStream(file);
    const closed = (): void => {
      source.destroy();
      reject(new Error('the build context stream was closed'));
    };
    pack.once('close', closed);
    const settle = (err?: Error | null): void => {
      pack.off('close', closed);
      if (err) {
        source.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    const sink = pack.entry(h, settle);
    source.on('error', (err) => {
      const e = unreadable(file, err);
      sink.destroy(e);
      settle(e);
    });
    source.pipe(sink);
  });
}

function add(pack: Pack, h: Headers): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
}

function unreadable(file: string, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new Error(`error checking context: no permission to read from '${file}'`);
  return new Error(`error checking context: can't stat '${file}': ${err.message}`);
}
