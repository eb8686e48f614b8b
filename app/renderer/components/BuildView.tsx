// Build an image from a folder, as `docker build` does: the form on the left (context folder,
// Dockerfile, tags, build args, target, cache and pull), the live log on the right, and the
// result: the image it made (opened in the image browser) or dockerd's error.
import { useEffect, useState, type FormEvent } from 'react';
import { parseBuildArgs, parseTags, targetProblem, type BuildArgRow } from '../../shared/build-form.js';
import type { BuildContextView, BuildHostView, BuildRequest } from '../../shared/views.js';
import { berth, errorMessage } from '../berth.js';
import { builtReference, lastStep, type BuildRun } from '../stores/builds.js';
import { BuildLog } from './BuildLog.js';
import { shortId } from './format.js';
import { useApp } from './store-context.js';

interface Draft {
  context: string;
  dockerfile: string;
  tags: string;
  args: BuildArgRow[];
  target: string;
  noCache: boolean;
  pull: boolean;
}

const blank: Draft = { context: '', dockerfile: '', tags: '', args: [{ key: '', value: '' }], target: '', noCache: false, pull: false };

/** The form as the last build left it, so coming back from the image shows what was built. */
function draftOf(request?: BuildRequest): Draft {
  if (!request) return blank;
  const args = Object.entries(request.buildArgs).map(([key, value]) => ({ key, value }));
  return {
    context: request.context, dockerfile: request.dockerfile, tags: request.tags.join(', '),
    args: args.length ? args : blank.args, target: request.target ?? '', noCache: request.noCache, pull: request.pull,
  };
}

export function BuildView() {
  const show = useApp((s) => s.show);
  const run = useApp((s) => (s.currentBuild ? s.builds[s.currentBuild] : undefined));
  const engine = useApp((s) => s.engine);
  return (
    <section className="view detail" aria-label="Build an image">
      <header className="view-header">
        <button className="link back" onClick={() => show({ name: 'images' })} aria-label="Back to images">←</button>
        <h1>Build an image</h1>
        <span className="muted ellipsis">classic builder on {engine.engineName ?? 'the engine'}{engine.endpoint ? ` · ${engine.endpoint}` : ''}</span>
      </header>
      <div className="build-body">
        <BuildForm run={run} />
        <div className="build-output">
          {run ? <BuildStatus run={run} /> : null}
          {run ? <BuildLog key={run.id} buildId={run.id} /> : <p className="empty">Choose a folder with a Dockerfile and press Build; the log appears here as the engine builds.</p>}
        </div>
      </div>
    </section>
  );
}

function BuildForm({ run }: { run?: BuildRun }) {
  const buildStarted = useApp((s) => s.buildStarted);
  const [draft, setDraft] = useState<Draft>(() => draftOf(run?.request));
  const [host, setHost] = useState<BuildHostView | null>(null);
  const [folder, setFolder] = useState<BuildContextView | null>(null);
  const [folderError, setFolderError] = useState('');
  const [error, setError] = useState('');
  const [starting, setStarting] = useState(false);
  const building = run?.state === 'running';
  const update = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  useEffect(() => {
    berth().builds.host().then(setHost, () => setHost({ folderPicker: false, home: '' }));
    // Back from the image: list the folder's Dockerfiles again, keeping the one that was built.
    if (draft.context) void open(draft.context, draft.dockerfile);
  }, []);

  /** Checks the folder in main and lists its Dockerfiles; keeps `keep` when it is among them. */
  const open = async (path: string, keep?: string): Promise<BuildContextView | null> => {
    setFolderError('');
    try {
      const view = await berth().builds.inspectContext(path);
      accept(view, keep);
      return view;
    } catch (err) {
      setFolder(null);
      setFolderError(errorMessage(err));
      return null;
    }
  };
  const accept = (view: BuildContextView, keep?: string) => {
    setFolder(view);
    setDraft((d) => ({ ...d, context: view.path, dockerfile: keep && view.dockerfiles.includes(keep) ? keep : view.dockerfiles[0] ?? '' }));
  };
  const pick = async () => {
    try {
      const view = await berth().builds.pickContext();
      if (view) accept(view);
    } catch (err) {
      setFolderError(errorMessage(err));
    }
  };

  let tagsError = '';
  try { parseTags(draft.tags); } catch (err) { tagsError = errorMessage(err); }
  let argsError = '';
  try { parseBuildArgs(draft.args); } catch (err) { argsError = errorMessage(err); }
  const targetError = draft.target.trim() ? targetProblem(draft.target.trim()) ?? '' : '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    // A typed path that was not checked yet is checked now.
    const view = folder && folder.path === draft.context ? folder : await open(draft.context, draft.dockerfile);
    if (!view) return;
    const dockerfile = view.dockerfiles.includes(draft.dockerfile) ? draft.dockerfile : view.dockerfiles[0];
    if (!dockerfile) return;
    let request: BuildRequest;
    try {
      request = {
        context: view.path, dockerfile, tags: parseTags(draft.tags), buildArgs: parseBuildArgs(draft.args),
        noCache: draft.noCache, pull: draft.pull, target: draft.target.trim() || undefined,
      };
    } catch (err) {
      setError(errorMessage(err));
      return;
    }
    setStarting(true);
    try {
      buildStarted(await berth().builds.start(request), request);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setStarting(false);
    }
  };

  const setArg = (i: number, patch: Partial<BuildArgRow>) => update({ args: draft.args.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const invalid = Boolean(tagsError || argsError || targetError) || !draft.context.trim() || (folder !== null && folder.dockerfiles.length === 0);

  return (
    <form className="build-form" aria-label="Build options" onSubmit={submit}>
      <label>Context folder
        <span className="field-row">
          <input
            type="text" className="mono" value={draft.context} aria-label="Context folder"
            placeholder={host?.home ? `${host.home}/project` : '/path/to/project'}
            onChange={(e) => { update({ context: e.target.value }); setFolder(null); }}
            onBlur={() => { if (draft.context.trim() && folder?.path !== draft.context) void open(draft.context); }}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void open(draft.context); } }}
            disabled={building}
          />
          {host?.folderPicker ? <button type="button" onClick={() => void pick()} disabled={building}>Choose…</button> : null}
        </span>
      </label>
      {folderError ? <p className="error-text small" role="alert">{folderError}</p> : null}
      <label>Dockerfile
        <select value={draft.dockerfile} onChange={(e) => update({ dockerfile: e.target.value })} disabled={building || !folder?.dockerfiles.length} aria-label="Dockerfile">
          {folder?.dockerfiles.length ? folder.dockerfiles.map((f) => <option key={f} value={f}>{f}</option>) : <option value="">{folder ? 'No Dockerfile in this folder' : 'Choose a folder first'}</option>}
        </select>
      </label>
      {folder?.dockerignore ? <p className="muted small hint">.dockerignore applies: the files it excludes are not sent.</p> : null}
      <label>Tags
        <input type="text" className="mono" value={draft.tags} onChange={(e) => update({ tags: e.target.value })} placeholder="myapp:latest, myapp:1.0" aria-label="Tags" disabled={building} />
      </label>
      {tagsError ? <p className="error-text small">{tagsError}</p> : null}
      <fieldset className="build-args" disabled={building}>
        <legend>Build args</legend>
        {draft.args.map((a, i) => (
          <div className="build-arg" key={i}>
            <input type="text" className="mono" value={a.key} onChange={(e) => setArg(i, { key: e.target.value })} placeholder="NAME" aria-label={`Build arg ${i + 1} name`} />
            <span className="muted">=</span>
            <input type="text" className="mono" value={a.value} onChange={(e) => setArg(i, { value: e.target.value })} placeholder="value" aria-label={`Build arg ${i + 1} value`} />
            <button type="button" className="danger" onClick={() => update({ args: draft.args.length > 1 ? draft.args.filter((_, j) => j !== i) : [{ key: '', value: '' }] })} aria-label={`Remove build arg ${i + 1}`} title="Remove">✕</button>
          </div>
        ))}
        <button type="button" className="link add-arg" onClick={() => update({ args: [...draft.args, { key: '', value: '' }] })}>+ Add a build arg</button>
      </fieldset>
      {argsError ? <p className="error-text small">{argsError}</p> : null}
      <label>Target stage
        <input type="text" className="mono" value={draft.target} onChange={(e) => update({ target: e.target.value })} placeholder="the last stage" aria-label="Target stage" disabled={building} />
      </label>
      {targetError ? <p className="error-text small">{targetError}</p> : null}
      <div className="build-options">
        <label className="tick"><input type="checkbox" checked={draft.noCache} onChange={(e) => update({ noCache: e.target.checked })} disabled={building} /> Do not use the cache</label>
        <label className="tick"><input type="checkbox" checked={draft.pull} onChange={(e) => update({ pull: e.target.checked })} disabled={building} /> Pull newer base images</label>
      </div>
      {error ? <p className="error-text" role="alert">{error}</p> : null}
      <div className="dialog-actions">
        {building && run ? <button type="button" onClick={() => void berth().builds.cancel(run.id).catch(() => undefined)}>Cancel build</button> : null}
        <button type="submit" className="primary" disabled={building || starting || invalid}>{building ? 'Building…' : starting ? 'Starting…' : 'Build'}</button>
      </div>
    </form>
  );
}

/** One line above the log: the step under way, the image made, or why the build failed. */
function BuildStatus({ run }: { run: BuildRun }) {
  const show = useApp((s) => s.show);
  const reference = builtReference(run);
  return (
    <div className={`toolbar build-status build-${run.state}`} data-build-state={run.state}>
      <span className={`dot ${run.state === 'running' ? 'state-created' : run.state === 'succeeded' ? 'state-running' : run.state === 'failed' ? 'state-dead' : 'state-exited'}`} />
      {run.state === 'running' ? <span className="muted ellipsis">{lastStep(run) ?? 'Sending the build context…'}</span> : null}
      {run.state === 'succeeded' ? (
        <>
          <span className="ellipsis">Built <span className="mono">{shortId(run.imageId ?? '')}</span>{run.request?.tags.length ? <span className="muted"> · {run.request.tags.join(', ')}</span> : null}</span>
          <span className="spacer" />
          {reference ? <button onClick={() => show({ name: 'image', reference, fromBuild: true })}>Open image</button> : null}
        </>
      ) : null}
      {run.state === 'failed' ? <span className="error-text build-error" role="alert">{run.error}</span> : null}
      {run.state === 'cancelled' ? <span className="muted">Cancelled: the engine stopped the build and removed its containers.</span> : null}
    </div>
  );
}
