// The renderer's state: what main pushed (containers, images, jobs, engine status, settings) and
// what the person chose (view, selection, filter). One zustand store; components select slices.
import { create } from 'zustand';
import { containerNotices, jobNotice } from './notices.js';
import { appendBuildOutput, builtReference, endedBuild, recentBuilds, startedBuild, buildsBusy, withoutBuildSteps, type BuildRun } from './builds.js';
import type { BerthApi } from '../../shared/api.js';
import type { BuildRequest, ContainersChange, ContainerView, EngineStatus, ImageView, JobView, NetworkView, PullProgress, Settings, VolumeView } from '../../shared/views.js';

export type View =
  | { name: 'containers' } | { name: 'container'; id: string; tab: DetailTab } | { name: 'images' } | { name: 'image'; reference: string; fromBuild?: boolean } | { name: 'build' }
  | { name: 'volumes' } | { name: 'networks' } | { name: 'activity' } | { name: 'settings' };
export type DetailTab = 'logs' | 'terminal' | 'attach' | 'inspect' | 'stats' | 'files';

export interface Notice { id: number; kind: 'error' | 'info'; text: string }

export interface AppState {
  containers: ContainerView[];
  images: ImageView[];
  volumes: VolumeView[];
  networks: NetworkView[];
  /** Pulls started from the app, by reference, while they run and briefly after. */
  pulls: Record<string, PullProgress>;
  jobs: JobView[];
  /** Builds started from this window, by id; `currentBuild` is the one the build view shows. */
  builds: Record<string, BuildRun>;
  currentBuild?: string;
  engine: EngineStatus;
  settings: Settings;
  view: View;
  filter: string;
  collapsed: ReadonlySet<string>;
  /** Container ids with an action in flight, so their buttons show it. */
  busy: ReadonlySet<string>;
  /** Containers ticked for a bulk action. */
  selected: ReadonlySet<string>;
  notices: Notice[];
}

export interface AppActions {
  show(view: View): void;
  setFilter(filter: string): void;
  toggleGroup(project: string): void;
  notify(kind: Notice['kind'], text: string): void;
  dismiss(id: number): void;
  setBusy(id: string, busy: boolean): void;
  toggleSelected(id: string): void;
  setSelected(ids: Iterable<string>): void;
  receiveJob(job: JobView): void;
  /** start() answered: the build view follows this build from now on. */
  buildStarted(id: string, request: BuildRequest): void;
}

export type AppStore = ReturnType<typeof createAppStore>;

const KEEP_JOBS = 200;

export function createAppStore() {
  let nextNotice = 1;
  return create<AppState & AppActions>()((set) => ({
    containers: [],
    images: [],
    volumes: [],
    networks: [],
    pulls: {},
    jobs: [],
    builds: {},
    engine: { connection: 'connecting', endpoint: '', jobs: false },
    settings: { theme: 'system', endpoint: '' },
    view: { name: 'containers' },
    filter: '',
    collapsed: new Set(),
    busy: new Set(),
    selected: new Set(),
    notices: [],
    show: (view) => set({ view }),
    setFilter: (filter) => set({ filter }),
    toggleGroup: (project) => set((s) => {
      const collapsed = new Set(s.collapsed);
      if (collapsed.has(project)) collapsed.delete(project);
      else collapsed.add(project);
      return { collapsed };
    }),
    notify: (kind, text) => set((s) => ({ notices: [...s.notices.slice(-4), { id: nextNotice++, kind, text }] })),
    dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
    setBusy: (id, busy) => set((s) => {
      const next = new Set(s.busy);
      if (busy) next.add(id);
      else next.delete(id);
      return { busy: next };
    }),
    receiveJob: (job) => set((s) => ({ jobs: upsertJob(s.jobs, job) })),
    buildStarted: (id, request) => set((s) => ({ builds: recentBuilds({ ...s.builds, [id]: startedBuild(s.builds[id], id, request) }), currentBuild: id })),
    toggleSelected: (id) => set((s) => {
      const selected = new Set(s.selected);
      if (selected.has(id)) selected.delete(id);
      else selected.add(id);
      return { selected };
    }),
    setSelected: (ids) => set({ selected: new Set(ids) }),
  }));
}

/** Newest first; a job already listed is replaced in place. */
export function upsertJob(jobs: JobView[], job: JobView): JobView[] {
  const rest = jobs.filter((j) => j.id !== job.id);
  return [job, ...rest].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, KEEP_JOBS);
}

/**
 * The list after a change from main: newest first, as the engine lists them. A delta touches only
 * the rows it names: each is taken out and put back at its place (found by binary search), so an
 * event costs a copy of the list, not a sort of it. Rows not named keep their objects, so their
 * components do not re-render.
 */
export function applyContainersChange(list: ContainerView[], change: ContainersChange): ContainerView[] {
  if (change.reset) return change.reset.slice().sort(newestFirst);
  if (change.upsert.length === 0 && change.remove.length === 0) return list;
  const named = new Set(change.remove);
  for (const c of change.upsert) named.add(c.id);
  const next = list.filter((c) => !named.has(c.id));
  for (const c of change.upsert) next.splice(placeOf(next, c), 0, c);
  return next;
}

/** The engine's order: newest first, then by name. */
function newestFirst(a: ContainerView, b: ContainerView): number {
  return b.created - a.created || a.name.localeCompare(b.name);
}

/** The index at which `c` goes in the sorted `list` (after any row that sorts equal to it). */
function placeOf(list: ContainerView[], c: ContainerView): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (newestFirst(list[mid]!, c) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A notice in the window, and a system notification when the person allowed them. */
function tell(store: AppStore, kind: Notice['kind'], text: string): void {
  store.getState().notify(kind, text);
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) new Notification('Berth', { body: text });
}

/** Loads the current state from main and keeps it current from main's events. */
export function connectStore(store: AppStore, api: BerthApi): () => void {
  const set = store.setState;
  const offs = [
    api.on('containers:changed', (change) => {
      const before = store.getState().containers;
      const containers = applyContainersChange(before, change);
      const { selected } = store.getState();
      const gone = change.remove.filter((id) => selected.has(id));
      set(gone.length || change.reset ? { containers, selected: new Set([...selected].filter((id) => containers.some((c) => c.id === id))) } : { containers });
      const building = buildsBusy(Object.values(store.getState().builds), Date.now());
      for (const text of containerNotices(before, building ? withoutBuildSteps(change) : change)) tell(store, 'error', text);
    }),
    api.on('images:changed', (images) => set({ images })),
    api.on('volumes:changed', (volumes) => set({ volumes })),
    api.on('images:pull', (p) => {
      set((s) => ({ pulls: { ...s.pulls, [p.reference]: p } }));
      // A finished pull stays on screen a moment, then makes way (unless a new pull replaced it).
      if (p.done) setTimeout(() => set((s) => {
        if (s.pulls[p.reference] !== p) return {};
        const { [p.reference]: _gone, ...rest } = s.pulls;
        void _gone;
        return { pulls: rest };
      }), 4000);
    }),
    api.on('networks:changed', (networks) => set({ networks })),
    api.on('engine:status', (engine) => set({ engine })),
    api.on('settings:changed', (settings) => set({ settings })),
    api.on('jobs:changed', (job) => {
      const notice = jobNotice(store.getState().jobs.find((j) => j.id === job.id), job);
      store.getState().receiveJob(job);
      // The build view shows how its build ended; the job's notice would say it twice.
      const watchingBuild = job.name === 'image.build' && store.getState().view.name === 'build';
      if (notice && !watchingBuild) tell(store, notice.kind, notice.text);
    }),
    api.on('jobs:reset', (jobs) => set({ jobs })),
    api.on('builds:output', ({ buildId, data }) => set((s) => ({ builds: { ...s.builds, [buildId]: appendBuildOutput(s.builds[buildId], buildId, data) } }))),
    api.on('builds:end', (end) => {
      const run = endedBuild(store.getState().builds[end.buildId], end);
      set((s) => ({ builds: { ...s.builds, [end.buildId]: run } }));
      const { view, currentBuild } = store.getState();
      const watching = view.name === 'build' && currentBuild === end.buildId;
      const reference = builtReference(run);
      // Someone watching the build sees the image it made; anyone else gets told.
      if (watching && run.state === 'succeeded' && reference) set({ view: { name: 'image', reference, fromBuild: true } });
      else if (!watching && run.state === 'succeeded') tell(store, 'info', `Built ${reference ?? 'the image'}`);
      else if (!watching && run.state === 'failed') tell(store, 'error', `Build failed: ${run.error}`);
    }),
    api.on('app:navigate', ({ containerId, tab }) => set({ view: { name: 'container', id: containerId, tab } })),
  ];
  void Promise.all([api.containers.list(), api.images.list(), api.volumes.list(), api.networks.list(), api.jobs.list(), api.engine.status(), api.settings.get()]).then(
    ([containers, images, volumes, networks, jobs, engine, settings]) => set({ containers, images, volumes, networks, jobs, engine, settings }),
    (err: unknown) => store.getState().notify('error', `Cannot load state: ${(err as Error).message}`),
  );
  return () => offs.forEach((off) => off());
}
