// Builds started from this window: each one's log (kept here, not in the terminal, so it survives
// leaving the build view and coming back) and how it ended. Pure functions over plain objects,
// used by the app store.
import type { BuildEnd, BuildRequest, ContainersChange } from '../../shared/views.js';

/** A build's log is bounded: past this, its oldest chunks make way (the terminal keeps its own scrollback). */
export const MAX_BUILD_LOG = 4 << 20;
/** Finished builds kept with their logs; older ones make way. */
export const KEEP_BUILDS = 10;

export type BuildState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface BuildRun {
  id: string;
  /** Unknown for a moment when the first output arrives before start() answers. */
  request?: BuildRequest;
  state: BuildState;
  /** The log in arrival order; chunk `i` has sequence number `first + i`. */
  chunks: string[];
  first: number;
  bytes: number;
  imageId?: string;
  error?: string;
  /** When it ended (ms since the epoch), for telling its steps' late events apart. */
  endedAt?: number;
}

const empty = (id: string): BuildRun => ({ id, state: 'running', chunks: [], first: 0, bytes: 0 });

export function startedBuild(run: BuildRun | undefined, id: string, request: BuildRequest): BuildRun {
  return { ...(run ?? empty(id)), request };
}

/** The builds with the oldest finished ones dropped beyond `keep` (running builds always stay). */
export function recentBuilds(builds: Record<string, BuildRun>, keep = KEEP_BUILDS): Record<string, BuildRun> {
  const runs = Object.values(builds);
  let extra = runs.length - keep;
  if (extra <= 0) return builds;
  // Insertion order is start order: the first finished ones are the oldest.
  return Object.fromEntries(runs.filter((r) => !(extra > 0 && r.state !== 'running' && extra-- > 0)).map((r) => [r.id, r]));
}

export function appendBuildOutput(run: BuildRun | undefined, id: string, data: string): BuildRun {
  const r = run ?? empty(id);
  const chunks = [...r.chunks, data];
  let { first, bytes } = r;
  bytes += data.length;
  while (bytes > MAX_BUILD_LOG && chunks.length > 1) {
    bytes -= chunks.shift()!.length;
    first++;
  }
  return { ...r, chunks, first, bytes };
}

export function endedBuild(run: BuildRun | undefined, end: BuildEnd): BuildRun {
  const r = run ?? empty(end.buildId);
  const state: BuildState = end.cancelled ? 'cancelled' : end.error ? 'failed' : 'succeeded';
  return { ...r, state, imageId: end.imageId, error: end.error, endedAt: Date.now() };
}

/** How long after a build its steps' container events may still arrive. */
const STEP_EVENTS_MS = 10_000;

/** Whether a build runs, or ended so recently that its steps' events may still come in. */
export function buildsBusy(runs: BuildRun[], now: number): boolean {
  return runs.some((r) => r.state === 'running' || (r.endedAt !== undefined && now - r.endedAt < STEP_EVENTS_MS));
}

/** The chunks a reader that has seen up to (not including) `next` has yet to see, and its new position. */
export function unreadChunks(run: BuildRun, next: number): { chunks: string[]; next: number } {
  const from = Math.max(next, run.first);
  return { chunks: run.chunks.slice(from - run.first), next: run.first + run.chunks.length };
}

/** The reference to open the built image by: its first tag, else its id. */
export function builtReference(run: BuildRun): string | undefined {
  return run.request?.tags[0] ?? run.imageId;
}

/**
 * The change without the containers of build steps, whose deaths (a failing RUN, a cancel) the
 * build's own log reports. A step runs on the previous step's image, named by its bare id, which
 * the person's own containers seldom are.
 */
export function withoutBuildSteps(change: ContainersChange): ContainersChange {
  return { ...change, upsert: change.upsert.filter((c) => !/^(sha256:)?[0-9a-f]{12,64}$/.test(c.image)) };
}

/** "Step 3/7 : RUN make" → the last step the log reached, for the status line. */
export function lastStep(run: BuildRun): string | undefined {
  for (let i = run.chunks.length - 1; i >= 0; i--) {
    const steps = run.chunks[i]!.match(/^Step \d+\/\d+ : .*$/gm);
    if (steps) return steps[steps.length - 1];
  }
  return undefined;
}
