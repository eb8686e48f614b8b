// The classic builder: runs a parsed Dockerfile stage by stage, one image per step, printing
// dockerd's progress lines (`Step 2/7 : …`, ` ---> Using cache`, ` ---> Running in …`). Each step
// first asks the build cache for an image made from the same parent by the same step (the step's
// config, with the content hash of copied files in its Cmd) and only does the work on a miss.
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { BuildBackend, BuildImage } from './backend';
import type { BuildContext } from './context';
import { BuildArgs } from './build-args';
import { parseInstruction, type Dockerfile, type Instruction, type Stage } from './instructions';
import { nodeFromLine } from './parser';
import { ShellLex } from './shell-lex';
import { dispatch } from './dispatch';
import type { ContainerConfig } from '../graph/interfaces';
import type { HostConfig } from '../container/types';
import { EngineError, invalidParameter, notFound } from '../errors';
import type { AuthConfig } from '../distribution/auth';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** The graphdriver ids of the builder's bare writable layers (COPY, WORKDIR steps). */
export const BUILD_ROOTFS_PREFIX = 'build-';

export interface BuildOptions {
  tags: string[];
  buildArgs: Record<string, string | null>;
  noCache: boolean;
  pull: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  rm: boolean;
  /** Remove them after a failed step too. */
  forceRm: boolean;
  target?: string;
  labels: Record<string, string>;
  platform?: string;
  quiet: boolean;
  /** networkmode, shmsize, memory, memswap, cpusetcpus, cpushares, cpuquota, cpuperiod, extrahosts for RUN. */
  hostConfig: HostConfig;
  /** Credentials by registry (X-Registry-Config), for pulling base images. */
  registryAuth?: Record<string, AuthConfig>;
}

/** The state of the stage being built. */
export interface StageState {
  name?: string;
  image?: BuildImage;
  config: ContainerConfig;
  cmdSet: boolean;
  maintainer?: string;
  platform?: string;
}

/** A build step's failure after the output started: dockerd prints it as an errorDetail. */
export class StepError extends EngineError {
  constructor(message: string, readonly code?: number) {
    super(500, message);
  }
}

/** What a quiet build keeps of its log for the failure case. */
const QUIET_LOG_MAX = 8 * 1024 * 1024;

export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class Builder {
  readonly buildArgs: BuildArgs;
  readonly stages: StageState[] = [];
  private readonly lexers = new Map<string, ShellLex>();
  private readonly quietLog: string[] = [];
  private quietBytes = 0;
  /** Told at every step, for the job's progress. */
  onStep?: (current: number, total: number, text: string) => void;
  /** Containers made and not yet removed (bare rootfs or real), so a failure or a cancel leaves none behind. */
  readonly live = new Map<string, 'rootfs' | 'container'>();

  constructor(
    readonly backend: BuildBackend,
    readonly context: BuildContext,
    readonly options: BuildOptions,
    private readonly out: Writable,
    readonly signal: AbortSignal,
  ) {
    this.buildArgs = new BuildArgs(options.buildArgs);
  }

  lex(escape: string): ShellLex {
    let l = this.lexers.get(escape);
    if (!l) this.lexers.set(escape, (l = new ShellLex(escape)));
    return l;
  }

  /** Progress text for the client. Quiet builds keep it, to show it only if the build fails (as dockerd). */
  say(text: string): void {
    const line = JSON.stringify({ stream: text }) + '\r\n';
    if (!this.options.quiet) this.out.write(line);
    else if (this.quietBytes < QUIET_LOG_MAX) {
      this.quietLog.push(line);
      this.quietBytes += line.length;
    }
  }

  /** A quiet build failed: the client gets the log it did not see. */
  flushQuietLog(): void {
    for (const line of this.quietLog.splice(0)) this.out.write(line);
  }

  /** A writable that forwards a RUN step's output as stream messages (stderr in red, as dockerd). */
  output(kind: 'stdout' | 'stderr'): Writable {
    const say = (text: string) => this.say(kind === 'stderr' ? `\u001b[91m${text}\u001b[0m` : text);
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        say(chunk.toString('utf8'));
        cb();
      },
    });
  }

  /** A writable layer over `image` for a step that only writes files (COPY, WORKDIR). */
  async newRootfs(image: BuildImage | undefined): Promise<{ id: string; rootfs: string }> {
    // A recognisable id: a crash mid-step leaves a layer that the next start knows to remove.
    const id = `${BUILD_ROOTFS_PREFIX}${randomBytes(16).toString('hex')}`;
    this.live.set(id, 'rootfs');
    return { id, rootfs: await this.backend.createRootfs(id, image) };
  }

  /** A real container for a RUN step. */
  async newContainer(image: BuildImage, config: ContainerConfig): Promise<string> {
    const id = await this.backend.createContainer(image, config, this.options.hostConfig);
    this.live.set(id, 'container');
    return id;
  }

  async removeContainer(id: string, announce: boolean): Promise<void> {
    const kind = this.live.get(id);
    if (!kind) return;
    this.live.delete(id);
    if (kind === 'rootfs') await this.backend.removeRootfs(id);
    else await this.backend.removeContainer(id);
    if (announce) this.say(`Removing intermediate container ${shortId(id)}\n`);
  }

  /** Removes what a failed or cancelled build left. */
  async cleanup(): Promise<void> {
    for (const id of [...this.live.keys()]) await this.removeContainer(id, false).catch(() => undefined);
  }

  /** The key of a step in the build cache: its parent image and its config (Cmd names the step). */
  cacheKey(parent: BuildImage | undefined, config: ContainerConfig): string {
    return createHash('sha256').update(JSON.stringify([parent?.id ?? '', canonical(config)])).digest('hex');
  }

  /** A cache hit sets the stage's image and says so; false on a miss (or with --no-cache). */
  async probeCache(state: StageState, config: ContainerConfig): Promise<boolean> {
    if (this.options.noCache) return false;
    const hit = await this.backend.cacheGet(this.cacheKey(state.image, config));
    if (!hit) return false;
    state.image = hit;
    this.say(` ---> Using cache\n ---> ${shortId(hit.id)}\n`);
    return true;
  }

  async recordStep(state: StageState, probeConfig: ContainerConfig, image: BuildImage): Promise<void> {
    await this.backend.cachePut(this.cacheKey(state.image, probeConfig), image.id);
    state.image = image;
    this.say(` ---> ${shortId(image.id)}\n`);
  }

  /** The current SHELL, for shell-form commands and the `#(nop)` history lines. */
  shell(state: StageState): string[] {
    const s = state.config.Shell as string[] | undefined | null;
    return s && s.length > 0 ? s : DEFAULT_SHELL;
  }

  /** A step that only changes the config: an image with an empty-layer history entry. */
  async commitConfig(state: StageState, message: string): Promise<void> {
    const cmd = [...this.shell(state), '#(nop) ', message];
    const probe: ContainerConfig = { ...state.config, Cmd: cmd };
    if (await this.probeCache(state, probe)) return;
    const image = await this.backend.commit(undefined, state.image, {
      config: state.config,
      containerConfig: probe,
      history: { created_by: cmd.join(' '), empty_layer: true },
      author: state.maintainer,
      platform: platformOf(state.platform),
    });
    await this.recordStep(state, probe, image);
  }

  /** FROM: an image, `scratch`, or an earlier stage; then the base image's ONBUILD triggers. */
  async beginStage(stage: Stage, escape: string): Promise<StageState> {
    this.buildArgs.resetAllowed();
    const meta = this.buildArgs.metaValues();
    const base = this.lex(escape).processWord(stage.base, (n) => meta.get(n));
    const platform = stage.platform ? this.lex(escape).processWord(stage.platform, (n) => meta.get(n)) : this.options.platform;
    const state: StageState = { name: stage.name, config: {}, cmdSet: false, platform };
    const earlier = this.stages.find((s) => s.name !== undefined && s.name === base.toLowerCase());
    if (earlier) {
      state.image = earlier.image;
    } else if (base.toLowerCase() !== 'scratch') {
      state.image = await this.image(base, platform);
    }
    if (state.image) {
      state.config = structuredClone(state.image.config.config ?? {});
      this.say(` ---> ${shortId(state.image.id)}\n`);
    }
    const env = state.config.Env ?? [];
    if (!env.some((e) => e.startsWith('PATH='))) state.config.Env = [...env, DEFAULT_PATH_ENV];
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length > 0) {
      state.config.OnBuild = null;
      this.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const trigger of triggers) {
        let instruction: Instruction;
        try {
          instruction = parseInstruction(nodeFromLine(trigger, escape, 0, 0));
        } catch (err) {
          throw invalidParameter((err as Error).message);
        }
        await dispatch(this, state, instruction, escape);
      }
    }
    return state;
  }

  /** A base image: local unless --pull, pulled when missing. */
  async image(name: string, platform: string | undefined): Promise<BuildImage> {
    if (!this.options.pull) {
      const local = await this.backend.getImage(name);
      if (local) return local;
    }
    try {
      return await this.backend.pullImage(name, platform, this.options.quiet ? new Writable({ write: (_c, _e, cb) => cb() }) : this.out, this.signal, this.options.registryAuth ?? {});
    } catch (err) {
      if (!this.options.pull) throw err;
      // --pull with an image that exists only here (built locally): dockerd uses the local one.
      const local = await this.backend.getImage(name);
      if (local) return local;
      throw err;
    }
  }

  /** Runs the whole Dockerfile up to the target stage; returns the final image. */
  async build(df: Dockerfile): Promise<BuildImage> {
    let targetIndex = df.stages.length - 1;
    if (this.options.target) {
      targetIndex = df.stages.findIndex((s) => s.name === this.options.target!.toLowerCase());
      if (targetIndex < 0) throw invalidParameter(`failed to reach build target ${this.options.target} in Dockerfile`);
    }
    const stages = df.stages.slice(0, targetIndex + 1);
    const labelLine = labelsInstruction(this.options.labels, df.escape);
    const total = df.metaArgs.length + stages.reduce((n, s) => n + 1 + s.instructions.length, 0) + (labelLine ? 1 : 0);
    let step = 0;
    const announce = (original: string) => {
      step++;
      this.say(`Step ${step}/${total} : ${original}\n`);
      this.onStep?.(step, total, original);
    };

    for (const arg of df.metaArgs) {
      announce(arg.node.original);
      const meta = this.buildArgs.metaValues();
      for (const a of arg.args) {
        const value = a.value === undefined ? undefined : this.lex(df.escape).processWord(a.value, (n) => meta.get(n));
        this.buildArgs.addMeta(a.name, value);
      }
    }
    let state: StageState | undefined;
    for (const [i, stage] of stages.entries()) {
      this.signal.throwIfAborted();
      announce(stage.node.original);
      state = await this.beginStage(stage, df.escape);
      const instructions = [...stage.instructions];
      if (i === stages.length - 1 && labelLine) instructions.push(labelLine);
      for (const instruction of instructions) {
        this.signal.throwIfAborted();
        announce(instruction.node.original);
        await dispatch(this, state, instruction, df.escape);
      }
      this.stages.push(state);
    }
    const final = state?.image;
    if (!final) throw notFound('No image was generated. Is your Dockerfile empty?');
    const unused = this.buildArgs.unconsumed();
    if (unused.length > 0) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    return final;
  }

  /** What the client sees at the end: the id, then the tags. */
  async finish(image: BuildImage, tags: string[]): Promise<void> {
    this.out.write(JSON.stringify({ aux: { ID: image.id } }) + '\r\n');
    this.say(`Successfully built ${shortId(image.id)}\n`);
    for (const tag of tags) {
      await this.backend.tag(image.id, tag);
      this.say(`Successfully tagged ${tag}\n`);
    }
    if (this.options.quiet) this.out.write(JSON.stringify({ stream: `${image.id}\n` }) + '\r\n');
  }
}

/** `--label` options become a final LABEL step, as dockerd appends one. */
function labelsInstruction(labels: Record<string, string>, escape: string): Instruction | undefined {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return undefined;
  const line = 'LABEL ' + keys.map((k) => `${JSON.stringify(k)}='${labels[k]!.replace(/'/g, `'"'"'`)}'`).join(' ');
  return parseInstruction(nodeFromLine(line, escape, 0, 0));
}

export function platformOf(platform: string | undefined): { os: string; architecture: string; variant?: string } {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
  if (!platform) return { os: 'linux', architecture: arch };
  const [os, architecture, variant] = platform.toLowerCase().split('/');
  return { os: os || 'linux', architecture: architecture || arch, ...(variant ? { variant } : {}) };
}

/** JSON with sorted object keys, so equal configs give equal cache keys. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

