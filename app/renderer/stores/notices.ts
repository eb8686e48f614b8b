// What deserves telling the person without their asking: a container that died (not one they
// stopped: those exit 0 or 137/143 from their own stop), and a long job that finished.
import type { ContainersChange, ContainerView, JobView } from '../../shared/views.js';

/** Exit codes a stop or kill produces; a container ending with one of these was ended on purpose. */
const STOPPED = new Set([0, 130, 137, 143]);
/** Jobs shorter than this finish while the person is still looking; no need to tell them. */
const LONG_JOB_MS = 5000;

export function containerNotices(before: ContainerView[], change: ContainersChange): string[] {
  if (change.reset) return [];
  // Most changes are not deaths: look at the rows before only for the ones that may be.
  const died = change.upsert.filter((c) => (c.state === 'exited' || c.state === 'dead') && c.exitCode !== undefined && !STOPPED.has(c.exitCode));
  if (died.length === 0) return [];
  const was = new Map(before.map((c) => [c.id, c]));
  return died.filter((c) => {
    const prev = was.get(c.id);
    return prev && (prev.state === 'running' || prev.state === 'restarting');
  }).map((c) => `${c.name} died with exit code ${c.exitCode}`);
}

export function jobNotice(before: JobView | undefined, job: JobView): { kind: 'error' | 'info'; text: string } | undefined {
  if (!before || before.state === job.state) return undefined;
  if (job.state !== 'succeeded' && job.state !== 'failed') return undefined;
  const ran = job.startedAt && job.endedAt ? Date.parse(job.endedAt) - Date.parse(job.startedAt) : 0;
  if (job.state === 'failed') return { kind: 'error', text: `${job.name} failed: ${job.error ?? `exit code ${job.exitCode}`}` };
  if (ran >= LONG_JOB_MS) return { kind: 'info', text: `${job.name} finished (${job.description})` };
  return undefined;
}
