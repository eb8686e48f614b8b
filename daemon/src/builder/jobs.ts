// The builder's jobs: `image.build` (POST /build: the context from stdin, progress to stdout) and
// `container.commit` (POST /commit). Daemon.wire() calls registerBuilderJobs once the graph and
// the container component are up.
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import type { Engine } from '../engine/engine';
import type { Graph } from '../graph/graph';
import type { ContainerConfig, Digest } from '../graph/interfaces';
import { parseReference } from '../graph/reference';
import { applyChanges } from '../graph/dockerfile-changes';
import { BuildContext } from './context';
import { BUILD_ROOTFS_PREFIX, Builder, type BuildOptions } from './builder';
import { GraphBuildBackend } from './graph-backend';
import { InstructionError, parseInstructions } from './instructions';
import { commitImage } from './commit';
import { invalidParameter, notFound } from '../errors';

export interface BuildArgs {
  options: BuildOptions;
  /** The Dockerfile's path in the context. */
  dockerfile: string;
}

export interface CommitArgs {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  /** The request body: config fields that replace the container's. */
  config?: ContainerConfig;
}

declare module '../engine/engine' {
  interface JobTable {
    /** stdin: the context tar; stdout: dockerd's JSON-lines progress. Resolves to the image id. */
    'image.build': { args: BuildArgs; result: Digest };
    'container.commit': { args: CommitArgs; result: { Id: Digest } };
    'builder.prune': { args: void; result: { CachesDeleted: string[]; SpaceReclaimed: number } };
  }
}

export async function registerBuilderJobs(engine: Engine, graph: Graph, dataRoot: string): Promise<void> {
  const dir = path.join(dataRoot, 'builder');
  const backend = new GraphBuildBackend({ engine, graph, dir });
  // Contexts of builds a crash interrupted, and deletions it cut short.
  // At start-up, before any build can begin, so none of them loses its context.
  for (const leftover of ['contexts', 'trash']) rmSync(path.join(dir, leftover), { recursive: true, force: true });
  // Writable layers of COPY/WORKDIR steps a crash interrupted (RUN steps are containers: theirs go with them).
  for (const id of await graph.driver.listContainers().catch(() => [] as string[])) {
    if (id.startsWith(BUILD_ROOTFS_PREFIX)) await graph.driver.remove(id).catch(() => undefined);
  }

  engine.register('image.build', async (job) => {
    const { options, dockerfile } = job.args;
    if (!job.stdin) throw invalidParameter('the build context is missing: send it as the request body (a tar archive)');
    const context = await BuildContext.fromTar(job.stdin, path.join(dir, 'contexts', job.id), job.signal, [dockerfile]);
    try {
      const text = await context.readDockerfile(dockerfile);
      let df;
      try {
        df = parseInstructions(text);
      } catch (err) {
        if (err instanceof InstructionError) throw invalidParameter(err.message);
        throw err;
      }
      const builder = new Builder(backend, context, options, job.stdout, job.signal);
      builder.onStep = (current, total, text) => job.setProgress({ current, total, unit: 'steps', message: text });
      // Graph garbage collection waits for the build: its images are not tagged until the end.
      return await graph.writing(async () => {
        try {
          for (const w of df.warnings) builder.say(`${w}\n`);
          const image = await builder.build(df).catch((err: unknown) => {
            builder.flushQuietLog();
            throw err;
          });
          await builder.finish(image, options.tags);
          return image.id;
        } finally {
          await builder.cleanup();
        }
      });
    } finally {
      await context.remove();
    }
  });

  engine.register('container.commit', async (job) => {
    const a = job.args;
    const ref = a.repo ? parseReference(a.tag ? `${a.repo}:${a.tag}` : a.repo) : undefined;
    if (ref?.digest) throw invalidParameter('refusing to create a tag with a digest reference');
    const info = await engine.run('container.inspect', { id: a.container, size: false }, { hidden: true }).catch((err: unknown) => {
      throw err instanceof Error && /No such container/.test(err.message) ? err : notFound(`No such container: ${a.container}`);
    });
    const id = info.Id as string;
    const state = info.State as { Running: boolean; Paused: boolean };
    const containerConfig = info.Config as ContainerConfig;
    const parentId = info.Image as string;
    let config: ContainerConfig = { ...containerConfig, ...(a.config ?? {}) };
    config = applyChanges(config, a.changes);
    const pause = a.pause && state.Running && !state.Paused;
    if (pause) await engine.run('container.pause', { id }, { hidden: true });
    try {
      const parent = graph.images.get(parentId) ? { id: parentId, config: await graph.images.config(parentId) } : undefined;
      const image = await commitImage(graph, {
        containerId: id,
        parent,
        config,
        containerConfig,
        history: { created_by: [info.Path as string, ...((info.Args as string[]) ?? [])].join(' ') },
        author: a.author,
        comment: a.comment,
      }, job.signal);
      if (ref) await graph.tag(image.id, ref);
      engine.events.publish('container', 'commit', id, {
        comment: a.comment ?? '', imageID: image.id, imageRef: ref?.familiar ?? '', name: String(info.Name ?? '').replace(/^\//, ''),
      });
      return { Id: image.id };
    } finally {
      if (pause) await engine.run('container.unpause', { id }, { hidden: true }).catch(() => undefined);
    }
  });

  engine.register('builder.prune', async () => {
    backend.clearCache();
    await rm(path.join(dir, 'cache'), { recursive: true, force: true });
    return { CachesDeleted: [], SpaceReclaimed: 0 };
  });
}
