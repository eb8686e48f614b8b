// Image building, the classic builder's API:
//   POST /build         the context tar as the body; dockerd's JSON-lines progress as the answer
//   POST /build/prune   forgets the build cache
//   POST /commit        a container's changes as a new image
import { Writable } from 'node:stream';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import { JsonProgressWriter } from '../streams/json-progress';
import { StepError, type BuildOptions } from '../../builder/builder';
import { parseReference } from '../../graph/reference';
import type { HostConfig } from '../../container/types';
import type { ContainerConfig } from '../../graph/interfaces';
import { normalizeAuth, type AuthConfig } from '../../distribution/auth';
import { invalidParameter, messageOf, notImplemented, statusOf } from '../../errors';

export const buildRoutes: Route[] = [
  { method: 'POST', path: '/build', handler: build },
  { method: 'POST', path: '/build/prune', handler: prune },
  { method: 'POST', path: '/commit', handler: commit },
];

/** A JSON map query parameter (buildargs, labels); dockerd's words when it does not parse. */
function jsonMap(ctx: RequestContext, name: string, what: string): Record<string, string | null> {
  const raw = ctx.string(name);
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, string | null>;
  } catch {
    // Reported below.
  }
  throw invalidParameter(`error reading ${what}: ${JSON.stringify(raw)} is not a JSON object`);
}

/** X-Registry-Config: base64url JSON of registry → credentials, for pulling base images. */
function registryConfig(ctx: RequestContext): Record<string, AuthConfig> {
  const raw = ctx.req.headers['x-registry-config'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return {};
  try {
    const parsed = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, AuthConfig> | null;
    return Object.fromEntries(Object.entries(parsed ?? {}).map(([registry, auth]) => [registry, normalizeAuth(auth)]));
  } catch {
    throw invalidParameter('invalid X-Registry-Config header: the value must be base64url-encoded JSON');
  }
}

function buildOptions(ctx: RequestContext): BuildOptions {
  const tags = ctx.query.getAll('t').filter((t) => t !== '');
  const normalised = tags.map((t) => {
    const ref = parseReference(t);
    if (ref.digest) throw invalidParameter(`invalid tag ${JSON.stringify(t)}: refusing to create a tag with a digest reference`);
    return ref.familiar;
  });
  const platform = ctx.string('platform') || undefined;
  if (platform) {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const [os, a] = platform.toLowerCase().split('/');
    if (os !== 'linux' || (a && a !== arch)) throw invalidParameter(`"${platform}": berthd builds images for linux/${arch} only`);
  }
  const hostConfig: HostConfig = {};
  const network = ctx.string('networkmode');
  if (network && network !== 'default') hostConfig.NetworkMode = network;
  if (ctx.string('shmsize')) hostConfig.ShmSize = ctx.int('shmsize', 0);
  if (ctx.string('memory')) hostConfig.Memory = ctx.int('memory', 0);
  if (ctx.string('memswap')) hostConfig.MemorySwap = ctx.int('memswap', 0);
  if (ctx.string('cpushares')) hostConfig.CpuShares = ctx.int('cpushares', 0);
  if (ctx.string('cpuquota')) hostConfig.CpuQuota = ctx.int('cpuquota', 0);
  if (ctx.string('cpuperiod')) hostConfig.CpuPeriod = ctx.int('cpuperiod', 0);
  if (ctx.string('cpusetcpus')) hostConfig.CpusetCpus = ctx.string('cpusetcpus');
  if (ctx.string('cpusetmems')) hostConfig.CpusetMems = ctx.string('cpusetmems');
  const extraHosts = ctx.query.getAll('extrahosts').flatMap((h) => h.split(',')).filter((h) => h !== '');
  if (extraHosts.length > 0) hostConfig.ExtraHosts = extraHosts;
  return {
    tags: normalised,
    buildArgs: jsonMap(ctx, 'buildargs', 'build args'),
    labels: jsonMap(ctx, 'labels', 'labels') as Record<string, string>,
    noCache: ctx.bool('nocache'),
    pull: ctx.bool('pull'),
    rm: ctx.bool('rm', true),
    forceRm: ctx.bool('forcerm'),
    target: ctx.string('target') || undefined,
    platform,
    quiet: ctx.bool('q'),
    hostConfig,
    registryAuth: registryConfig(ctx),
  };
}

/** The response starts (200, JSON) with the first byte of progress; errors before that keep their status. */
function lazyJson(ctx: RequestContext): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      if (ctx.res.write(chunk)) cb();
      else ctx.res.once('drain', () => cb());
    },
  });
}

async function build(ctx: RequestContext): Promise<void> {
  if (ctx.string('remote')) throw notImplemented('berthd builds from an uploaded context only: remote contexts (git, URLs) are not supported');
  if (ctx.string('version') === '2') throw notImplemented('BuildKit is not supported by berthd: use the classic builder (DOCKER_BUILDKIT=0)');
  const options = buildOptions(ctx);
  const dockerfile = ctx.string('dockerfile') || 'Dockerfile';
  const out = lazyJson(ctx);
  try {
    await ctx.engine.run('image.build', { options, dockerfile }, {
      stdin: ctx.req, stdout: out, signal: ctx.signal,
      description: `docker build${options.tags.map((t) => ` -t ${t}`).join('')}`,
    });
  } catch (err) {
    if (!ctx.res.headersSent) throw err;
    // dockerd reports a failed RUN with the command's exit code, which the CLI exits with.
    new JsonProgressWriter(out).error(messageOf(err), err instanceof StepError ? err.code : statusOf(err));
  }
  if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.end();
}

async function prune(ctx: RequestContext): Promise<void> {
  ctx.json(200, await ctx.engine.run('builder.prune', undefined, { description: 'docker builder prune' }));
}

async function commit(ctx: RequestContext): Promise<void> {
  const container = ctx.string('container');
  if (!container) throw invalidParameter('container is required: the container to commit');
  const config = await ctx.readJson<ContainerConfig>();
  const result = await ctx.engine.run('container.commit', {
    container,
    repo: ctx.string('repo') || undefined,
    tag: ctx.string('tag') || undefined,
    comment: ctx.string('comment') || undefined,
    author: ctx.string('author') || undefined,
    pause: ctx.bool('pause', true),
    changes: ctx.query.getAll('changes').filter((c) => c !== ''),
    config: config && Object.keys(config).length > 0 ? config : undefined,
  }, { description: `docker commit ${container}` });
  ctx.json(201, result);
}
