// One handler per instruction: substitute variables where dockerd does, change the stage's
// config, and commit a step (config only, or a container's changes) through the cache. The
// history lines and cache keys take dockerd's shapes (`/bin/sh -c #(nop)  ENV A=1`,
// `|1 X=1 /bin/sh -c echo $X`, `#(nop) COPY file:<hash> in /dst `).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, utimes } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Builder, StageState } from './builder';
import { StepError, platformOf, shortId } from './builder';
import type { Instruction, ShellDependent } from './instructions';
import { formatGoDuration } from './instructions';
import { performCopy, resolveSources, type CopyRequest, type CopySource } from './copy';
import type { ContainerConfig } from '../graph/interfaces';
import { resolveInRoot } from '../container/scoped-path';
import { invalidParameter } from '../errors';
import { ShellLexError } from './shell-lex';

/** Go's %q of a string list, as dockerd's history lines print CMD and ENTRYPOINT. */
const goQuoteList = (list: string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

export async function dispatch(b: Builder, state: StageState, ins: Instruction, escape: string): Promise<void> {
  const lex = b.lex(escape);
  const lookup = () => b.buildArgs.lookup(state.config.Env ?? []);
  const word = (w: string) => lex.processWord(w, lookup());
  const wrap = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      // Substitution errors are the Dockerfile's fault.
      if (err instanceof ShellLexError) throw invalidParameter(err.message);
      throw err;
    }
  };
  await wrap(async () => {
    switch (ins.kind) {
      case 'env': {
        const env = [...(state.config.Env ?? [])];
        const parts: string[] = [];
        for (const [rawKey, rawValue] of ins.pairs) {
          const key = word(rawKey);
          const value = word(rawValue);
          parts.push(`${key}=${value}`);
          const i = env.findIndex((e) => e.split('=', 1)[0] === key);
          if (i >= 0) env[i] = `${key}=${value}`;
          else env.push(`${key}=${value}`);
          // Later pairs of the same line see earlier ones, as in dockerd.
          state.config.Env = env;
        }
        return b.commitConfig(state, `ENV ${parts.join(' ')}`);
      }
      case 'label': {
        const labels = { ...(state.config.Labels ?? {}) };
        const parts: string[] = [];
        for (const [rawKey, rawValue] of ins.pairs) {
          const key = word(rawKey);
          const value = word(rawValue);
          labels[key] = value;
          parts.push(`${key}=${value}`);
        }
        state.config.Labels = labels;
        return b.commitConfig(state, `LABEL ${parts.join(' ')}`);
      }
      case 'arg': {
        const parts: string[] = [];
        for (const a of ins.args) {
          const value = a.value === undefined ? undefined : word(a.value);
          b.buildArgs.add(a.name, value);
          parts.push(value === undefined ? a.name : `${a.name}=${value}`);
        }
        return b.commitConfig(state, `ARG ${parts.join(' ')}`);
      }
      case 'maintainer':
        state.maintainer = ins.maintainer;
        return b.commitConfig(state, `MAINTAINER ${ins.maintainer}`);
      case 'cmd': {
        const cmd = resolveCmdLine(b, state, ins.cmd);
        state.config.Cmd = cmd;
        state.config.ArgsEscaped = true;
        await b.commitConfig(state, `CMD ${goQuoteList(cmd ?? [])}`);
        if (ins.cmd.cmdLine.length > 0) state.cmdSet = true;
        return;
      }
      case 'entrypoint': {
        const ep = resolveCmdLine(b, state, ins.cmd);
        state.config.Entrypoint = ep;
        if (!state.cmdSet) state.config.Cmd = null;
        return b.commitConfig(state, `ENTRYPOINT ${goQuoteList(ep ?? [])}`);
      }
      case 'expose': {
        const ports: string[] = [];
        for (const p of ins.ports) ports.push(...lex.processWords(p, lookup()));
        const exposed = { ...(state.config.ExposedPorts ?? {}) };
        for (const p of ports) for (const key of parsePortSpec(p)) exposed[key] = {};
        state.config.ExposedPorts = exposed;
        return b.commitConfig(state, `EXPOSE ${ports.join(' ')}`);
      }
      case 'volume': {
        const volumes = { ...(state.config.Volumes ?? {}) };
        const list = ins.volumes.map(word);
        for (const v of list) {
          if (v.trim() === '') throw invalidParameter('VOLUME specified can not be an empty string');
          volumes[v] = {};
        }
        state.config.Volumes = volumes;
        return b.commitConfig(state, `VOLUME [${list.join(' ')}]`);
      }
      case 'user':
        state.config.User = word(ins.user);
        return b.commitConfig(state, `USER ${state.config.User}`);
      case 'stopsignal': {
        const signal = word(ins.signal);
        validateSignal(signal);
        state.config.StopSignal = signal;
        return b.commitConfig(state, `STOPSIGNAL ${signal}`);
      }
      case 'shell':
        state.config.Shell = ins.shell;
        return b.commitConfig(state, `SHELL [${ins.shell.join(' ')}]`);
      case 'onbuild':
        state.config.OnBuild = [...(state.config.OnBuild ?? []), ins.expression];
        return b.commitConfig(state, `ONBUILD ${ins.expression}`);
      case 'healthcheck': {
        const previous = state.config.Healthcheck as { Test?: string[] } | undefined;
        if (previous?.Test && previous.Test.length > 0 && previous.Test[0] !== 'NONE') {
          b.say(`Note: overriding previous HEALTHCHECK: [${previous.Test.join(' ')}]\n`);
        }
        const h = ins.health;
        const health = h.test[0] === 'NONE'
          ? { Test: ['NONE'] }
          : { Test: h.test, ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}), ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.retries ? { Retries: h.retries } : {}) };
        state.config.Healthcheck = health;
        // dockerd prints the struct with Go's %q: durations quoted, the retry count as a rune.
        const described = h.test[0] === 'NONE'
          ? `&{["NONE"] "0s" "0s" "0s" '\\x00'}`
          : `&{${goQuoteList(h.test)} "${formatGoDuration(h.interval ?? 0)}" "${formatGoDuration(h.timeout ?? 0)}" "${formatGoDuration(h.startPeriod ?? 0)}" '\\x${(h.retries ?? 0).toString(16).padStart(2, '0')}'}`;
        return b.commitConfig(state, `HEALTHCHECK ${described}`);
      }
      case 'workdir':
        return workdir(b, state, word(ins.path));
      case 'run':
        return run(b, state, ins.cmd);
      case 'copy':
      case 'add':
        return copy(b, state, ins, word);
    }
  });
}

function resolveCmdLine(b: Builder, state: StageState, cmd: ShellDependent): string[] | null {
  if (!cmd.prependShell) return cmd.cmdLine;
  if (cmd.cmdLine.length === 0) return null;
  return [...b.shell(state), ...cmd.cmdLine];
}

async function workdir(b: Builder, state: StageState, dir: string): Promise<void> {
  const current = state.config.WorkingDir || '/';
  const resolved = path.posix.isAbsolute(dir) ? path.posix.normalize(dir) : path.posix.join(current, dir);
  state.config.WorkingDir = resolved;
  const cmd = [...b.shell(state), `#(nop) WORKDIR ${resolved}`];
  const probe: ContainerConfig = { ...state.config, Cmd: cmd };
  if (await b.probeCache(state, probe)) return;
  // dockerd creates the directory at this step so it exists in the image, not only at run time.
  const { id, rootfs } = await b.newRootfs(state.image);
  try {
    await mkdirScoped(rootfs, resolved);
    const image = await b.backend.commit(id, state.image, {
      config: state.config, containerConfig: probe, history: { created_by: cmd.join(' ') }, author: state.maintainer, platform: platformOf(state.platform),
    });
    await b.recordStep(state, probe, image);
  } finally {
    await b.removeContainer(id, false);
  }
}

async function mkdirScoped(rootfs: string, dir: string): Promise<void> {
  await mkdir(resolveInRoot(rootfs, dir), { recursive: true, mode: 0o755 });
}

async function run(b: Builder, state: StageState, cmd: ShellDependent): Promise<void> {
  if (!state.image) throw invalidParameter('Please provide a source image with `from` prior to run');
  const cmdFromArgs = resolveCmdLine(b, state, cmd) ?? [];
  const env = state.config.Env ?? [];
  const argsEnv = b.buildArgs.filterAllowed(env);
  let saveCmd = cmdFromArgs;
  if (argsEnv.length > 0) {
    // dockerd's marker: `|N k=v…` before the command keeps steps with different args apart in
    // the cache and shows them in history; unused predefined args (proxies) stay out.
    const kept = argsEnv.filter((e) => b.buildArgs.isReferencedOrNotBuiltin(e.split('=', 1)[0]!)).sort();
    saveCmd = [`|${kept.length}`, ...kept, ...cmdFromArgs];
  }
  const probe: ContainerConfig = { ...state.config, Cmd: saveCmd, ...(saveCmd.length > 0 ? { Entrypoint: null } : {}) };
  if (await b.probeCache(state, probe)) return;

  // An empty Entrypoint (not null, which means "the image's") runs the command as it is.
  const id = await b.newContainer(state.image, { ...state.config, Cmd: cmdFromArgs, Entrypoint: [], Env: [...env, ...argsEnv] });
  let ok = false;
  try {
    b.say(` ---> Running in ${shortId(id)}\n`);
    const exitCode = await b.backend.runContainer(id, {
      stdout: b.output('stdout'),
      stderr: b.output('stderr'),
      signal: b.signal,
    });
    b.signal.throwIfAborted();
    if (exitCode !== 0) throw new StepError(`The command '${cmdFromArgs.join(' ')}' returned a non-zero code: ${exitCode}`, exitCode);
    const image = await b.backend.commit(id, state.image, {
      config: state.config, containerConfig: probe, history: { created_by: saveCmd.join(' ') }, author: state.maintainer, platform: platformOf(state.platform),
    });
    ok = true;
    // --rm=false keeps a successful step's container, as dockerd does.
    if (b.options.rm) await b.removeContainer(id, true);
    else b.live.delete(id);
    await b.recordStep(state, probe, image);
  } finally {
    // A failed step's container goes too (unlike dockerd without --force-rm): a failed build leaves nothing.
    if (!ok && (b.options.rm || b.options.forceRm || b.signal.aborted)) await b.removeContainer(id, false).catch(() => undefined);
  }
}

async function copy(b: Builder, state: StageState, ins: Extract<Instruction, { kind: 'copy' | 'add' }>, word: (w: string) => string): Promise<void> {
  const kind = ins.kind === 'copy' ? 'COPY' : 'ADD';
  const req: CopyRequest = {
    kind, sources: ins.sources.map(word), dest: word(ins.dest), workdir: state.config.WorkingDir || '/',
    chown: ins.chown === undefined ? undefined : word(ins.chown),
    chmod: ins.chmod === undefined ? undefined : word(ins.chmod),
  };
  let from: CopySource = { root: b.context.root, isContext: true };
  // ADD's URLs are downloaded into the unpacked context (dockerd downloads them at every build
  // too: the content decides the cache key); they are copied as they are, never unpacked.
  const remote = new Map<string, string>();
  if (kind === 'ADD' && ins.from === undefined && req.sources.some(isUrl)) {
    await b.context.materialize(b.signal);
    req.sources = await Promise.all(req.sources.map(async (src, i) => {
      if (!isUrl(src)) return src;
      const { rel, hash } = await download(src, b.context.root, `.berth-remote-${i}`, b.signal);
      remote.set(rel, hash);
      return rel;
    }));
  }
  let fromImageId: string | undefined;
  let fromContainer: string | undefined;
  try {
    if (ins.from !== undefined) {
      const name = word(ins.from);
      const stage = /^\d+$/.test(name) ? b.stages[Number(name)] : b.stages.find((s) => s.name === name.toLowerCase());
      if (/^\d+$/.test(name) && !stage) throw invalidParameter(`invalid from flag value ${name}: index out of bounds`);
      const image = stage ? stage.image : await b.image(name, state.platform).catch((err: Error) => {
        throw invalidParameter(`invalid from flag value ${name}: ${err.message}`);
      });
      fromImageId = image?.id ?? 'scratch';
      const made = await b.newRootfs(image);
      fromContainer = made.id;
      from = { root: made.rootfs, isContext: false };
    }
    // The context answers from its index: nothing is unpacked unless the step misses the cache.
    const sources = await resolveSources(req, from, from.isContext && remote.size === 0 ? b.context : undefined);
    // The cache key names the content: hashes of context files, or the source image's id.
    const hashes: string[] = [];
    for (const s of sources) {
      hashes.push(remote.get(s.rel) ?? (from.isContext ? await b.context.hash(s.rel) : createHash('sha256').update(`${fromImageId}:${s.rel}`).digest('hex')));
    }
    const type = sources.length > 1 ? 'multi' : sources[0]!.isDir ? 'dir' : 'file';
    const digest = sources.length > 1 ? createHash('sha256').update(hashes.join(',')).digest('hex') : hashes[0]!;
    const flags = `${req.chown ? `--chown=${req.chown} ` : ''}${req.chmod ? `--chmod=${req.chmod} ` : ''}`;
    const cmd = [...b.shell(state), `#(nop) ${kind} ${flags}${type}:${digest} in ${req.dest} `];
    const probe: ContainerConfig = { ...state.config, Cmd: cmd };
    if (await b.probeCache(state, probe)) return;

    if (from.isContext) await b.context.materialize(b.signal);
    const { id, rootfs } = await b.newRootfs(state.image);
    try {
      await performCopy(req, from, sources, rootfs, new Set(remote.keys()));
      const image = await b.backend.commit(id, state.image, {
        config: state.config, containerConfig: probe, history: { created_by: cmd.join(' ') }, author: state.maintainer, platform: platformOf(state.platform),
      });
      await b.recordStep(state, probe, image);
    } finally {
      await b.removeContainer(id, false);
    }
  } finally {
    if (fromContainer) await b.removeContainer(fromContainer, false);
  }
}

/** EXPOSE's port specs as nat.ParsePortSpecs reads them: `80`, `80/udp`, `8000-8010/tcp`. */
export function parsePortSpec(spec: string): string[] {
  const [portPart, proto = 'tcp'] = spec.split('/', 2);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw invalidParameter(`Invalid proto: ${proto}`);
  const container = portPart!.split(':').pop()!;
  const m = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!m) throw invalidParameter(`Invalid containerPort: ${container}`);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start) throw invalidParameter(`Invalid containerPort: ${container}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

/** STOPSIGNAL takes a name (with or without SIG) or a number, as dockerd's signal.ParseSignal. */
export function validateSignal(signal: string): void {
  if (/^\d+$/.test(signal)) {
    if (Number(signal) >= 1 && Number(signal) <= 64) return;
  } else {
    const name = signal.toUpperCase().replace(/^SIG/, '');
    if (`SIG${name}` in osConstants.signals || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name)) return;
  }
  throw invalidParameter(`Invalid signal: ${signal}`);
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Downloads an ADD source to DIR/SUB/<name from the URL>, mode 0600 and Last-Modified as dockerd. */
async function download(url: string, root: string, sub: string, signal: AbortSignal): Promise<{ rel: string; hash: string }> {
  const name = path.posix.basename(new URL(url).pathname);
  if (!name || name === '/') throw invalidParameter(`ADD failed: cannot determine filename from url: ${url}`);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw invalidParameter(`ADD failed: error downloading ${url}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw invalidParameter(`ADD failed: error downloading ${url}: ${res.status} ${res.statusText}`);
  const rel = `${sub}/${name}`;
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  const h = createHash('sha256');
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => h.update(chunk));
  await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  const modified = res.headers.get('last-modified');
  if (modified && !Number.isNaN(Date.parse(modified))) await utimes(file, new Date(modified), new Date(modified));
  return { rel, hash: h.digest('hex') };
}
