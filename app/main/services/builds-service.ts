// Builds for one window, as `docker build` runs them: the context folder is checked here, sent as
// a tar made on the fly (with .dockerignore applied), and the engine's progress is relayed to the
// window as it arrives. A build belongs to the window that started it: closing the window (or a
// cancel) closes the request, and the engine cancels the build and removes its containers.
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import type { BuildContextView, BuildHostView, BuildRequest } from '../../shared/views.js';
import { BuildOutput, humanSize } from '../build/build-output.js';
import { checkDockerfile, inspectContextFolder, resolveContextFolder } from '../build/context-folder.js';
import { contextRules, packContext } from '../build/context-tar.js';
import { EngineError } from '../engine/engine-error.js';
import type { Emit } from './broadcaster.js';
import type { EngineService } from './engine-service.js';

/** What the window's host offers: Electron's native folder picker; web mode has none. */
export interface BuildHost {
  pickFolder?(): Promise<string | undefined>;
}

/** Log text is gathered this long before it goes to the window, so a chatty RUN is a few messages a second. */
const FLUSH_MS = 30;
const FLUSH_BYTES = 64 * 1024;

export class BuildsService {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly engine: EngineService, private readonly emit: Emit, private readonly host: BuildHost = {}) {}

  hostInfo(): BuildHostView {
    return { folderPicker: this.host.pickFolder !== undefined, home: homedir() };
  }

  async pickContext(): Promise<BuildContextView | null> {
    if (!this.host.pickFolder) throw new EngineError(501, 'this window has no folder picker (web mode): type the folder\'s path instead');
    const folder = await this.host.pickFolder();
    return folder === undefined ? null : inspectContextFolder(folder);
  }

  inspectContext(folder: string): Promise<BuildContextView> {
    return inspectContextFolder(folder);
  }

  /** Checks the request, then builds in the background; returns the id the log and the end are tagged with. */
  async start(request: BuildRequest): Promise<string> {
    const folder = await resolveContextFolder(request.context);
    await checkDockerfile(folder, request.dockerfile);
    const rules = await contextRules(folder, request.dockerfile).catch((err: Error) => { throw new EngineError(400, err.message); });
    const client = this.engine.client();
    const buildId = randomUUID();
    const controller = new AbortController();
    this.running.set(buildId, controller);

    let pending = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      clearTimeout(timer);
      timer = undefined;
      if (pending) this.emit('builds:output', { buildId, data: pending });
      pending = '';
    };
    const write = (text: string): void => {
      pending += text;
      if (pending.length >= FLUSH_BYTES) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
    };

    const { tar, sent } = packContext(folder, rules);
    let tarError: Error | undefined;
    tar.on('error', (err) => { tarError = err; });
    // The CLI's first line, kept current while the context uploads.
    const sending = (): string => `Sending build context to Docker daemon  ${humanSize(sent())}`;
    const ticker = setInterval(() => write(`${sending()}\r`), 250);
    tar.once('end', () => {
      clearInterval(ticker);
      write(`${sending()}\n`);
    });

    const output = new BuildOutput();
    void (async () => {
      let error: string | undefined;
      try {
        const messages = client.buildImage(tar, {
          tags: request.tags, dockerfile: request.dockerfile, buildArgs: request.buildArgs,
          noCache: request.noCache, pull: request.pull, target: request.target || undefined,
          // A failed step's container is of no use to the app; leave nothing behind, as BuildKit does.
          forceRm: true,
        }, controller.signal);
        for await (const m of messages) {
          const text = output.apply(m);
          if (text) write(text);
        }
        error = output.error ?? (output.imageId ? undefined : 'the engine ended the build without naming the image it built');
      } catch (err) {
        // A file that could not be read fails the upload; say that rather than "connection reset".
        error = tarError?.message ?? (err as Error).message;
      } finally {
        clearInterval(ticker);
        tar.destroy();
        this.running.delete(buildId);
      }
      const cancelled = controller.signal.aborted;
      if (cancelled) write('\nBuild cancelled.\n');
      flush();
      this.emit('builds:end', cancelled
        ? { buildId, tags: request.tags, cancelled: true }
        : { buildId, tags: request.tags, imageId: error ? undefined : output.imageId, error });
    })();
    return buildId;
  }

  cancel(buildId: string): void {
    const controller = this.running.get(buildId);
    if (!controller) throw new EngineError(404, `No such build: ${buildId}. It may have ended already.`);
    controller.abort();
  }

  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}
