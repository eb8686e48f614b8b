// Activity: berthd's jobs (pulls, pushes, loads, builds) as they run, with progress and cancel.
import type { JobView } from '../../shared/views.js';
import { berth } from '../berth.js';
import { formatBytes } from './format.js';
import { useApp } from './store-context.js';

export function ActivityView() {
  const jobs = useApp((s) => s.jobs);
  const engine = useApp((s) => s.engine);
  const running = jobs.filter((j) => j.state === 'running' || j.state === 'queued').length;
  return (
    <section className="view" aria-label="Activity">
      <header className="view-header">
        <h1>Activity</h1>
        <span className="muted">{running} running · {jobs.length} recent</span>
      </header>
      {!engine.jobs && engine.connection === 'connected' ? (
        <p className="empty">This engine ({engine.engineName ?? 'unknown'}) has no job feed; Activity shows berthd's jobs.</p>
      ) : jobs.length === 0 ? (
        <p className="empty">No jobs yet. Pulls, pushes, loads and builds appear here while they run.</p>
      ) : (
        <ul className="jobs">{jobs.map((j) => <JobRow key={j.id} job={j} />)}</ul>
      )}
    </section>
  );
}

function JobRow({ job }: { job: JobView }) {
  const notify = useApp((s) => s.notify);
  const { current, total, unit, message } = job.progress;
  const fraction = total ? Math.min(1, (current ?? 0) / total) : undefined;
  const amount = (n?: number) => (unit === 'bytes' ? formatBytes(n ?? 0) : String(n ?? 0));
  return (
    <li className={`job job-${job.state}`} data-job={job.name}>
      <div className="job-line">
        <strong>{job.name}</strong>
        <span className="ellipsis muted">{job.description}</span>
        <span className={`badge ${job.state}`}>{job.state}</span>
        {job.cancellable ? <button onClick={() => berth().jobs.cancel(job.id).catch((e: Error) => notify('error', `Cancel failed: ${e.message}`))}>Cancel</button> : null}
      </div>
      {fraction !== undefined || message ? (
        <div className="job-progress">
          {fraction !== undefined ? <progress max={1} value={fraction} /> : null}
          <span className="muted">{message ?? ''}{total ? ` ${amount(current)} / ${amount(total)}` : ''}</span>
        </div>
      ) : null}
      {job.error ? <p className="error-text">{job.error}</p> : null}
    </li>
  );
}
