// The IPC contract of window.berth: every request channel with its arguments and result, every
// event channel with its payload. Electron's preload and web mode's WebSocket bridge both build
// the same API from these tables (see api.ts), and main's handlers are typed against them.
import type {
  BuildContextView, BuildEnd, BuildHostView, BuildRequest, ContainerFileEntry, ContainersChange, ContainerStatsSample, ContainerView, EngineStatus, ImageDetailView, LayerTreeView, ImageView, JobView, LogChunk, LogOpenOptions,
  NetworkView, PullProgress, RunOptions, Settings, TerminalOpenOptions, VolumeView,
} from './views.js';

/** Request channels: `namespace:method` → [arguments, result]. */
export interface RequestChannels {
  'containers:list': [[], ContainerView[]];
  'containers:inspect': [[id: string], unknown];
  'containers:start': [[id: string], void];
  'containers:stop': [[id: string], void];
  'containers:restart': [[id: string], void];
  'containers:pause': [[id: string], void];
  'containers:unpause': [[id: string], void];
  'containers:kill': [[id: string], void];
  'containers:remove': [[id: string, options: { force: boolean }], void];
  /** The entries of one directory in a container's filesystem (running or not). */
  'containers:files': [[id: string, path: string], ContainerFileEntry[]];
  /** One file's content, base64, for a download (at most 64 MiB). */
  'containers:readFile': [[id: string, path: string], { name: string; base64: string }];
  /** Creates and starts a container (pulling the image first when the engine lacks it); returns its id. */
  'containers:run': [[options: RunOptions], string];
  'images:list': [[], ImageView[]];
  'images:remove': [[id: string, options: { force: boolean }], void];
  'images:tag': [[source: string, target: string], void];
  /** Removes dangling images (all unused with `all`); answers the bytes reclaimed. */
  'images:prune': [[options: { all: boolean }], number];
  'images:pull': [[reference: string], void];
  /** An image's facts and layers (with each layer's instruction and size). */
  'images:detail': [[reference: string], ImageDetailView];
  /** One directory of the image at one layer, with each entry's change; berthd only. */
  'images:tree': [[reference: string, layer: number, options: { path: string; offset: number; limit: number; changesOnly: boolean }], LayerTreeView];
  /** Whether this window can pick a folder natively, and the home folder for a typed path. */
  'builds:host': [[], BuildHostView];
  /** Electron's folder picker for the build context; null when the person cancelled it. */
  'builds:pickContext': [[], BuildContextView | null];
  /** Checks a typed context folder and lists its Dockerfiles. */
  'builds:inspectContext': [[path: string], BuildContextView];
  /** Starts a build; its log arrives on `builds:output`, its end on `builds:end`, tagged with the returned id. */
  'builds:start': [[request: BuildRequest], string];
  /** Cancels a build by closing its request (the engine cancels the job and removes its containers). */
  'builds:cancel': [[buildId: string], void];
  'volumes:list': [[], VolumeView[]];
  'volumes:remove': [[name: string], void];
  'volumes:prune': [[], number];
  'networks:list': [[], NetworkView[]];
  'networks:remove': [[id: string], void];
  /** Opens a log stream; its lines arrive in chunks on `logs:data` tagged with the returned stream id. */
  'logs:open': [[options: LogOpenOptions], string];
  'logs:close': [[streamId: string], void];
  /** Execs a command with a tty; output arrives on `terminals:data` tagged with the session id. */
  'terminals:open': [[options: TerminalOpenOptions], string];
  /** Attaches to the container's main process; a session like a terminal's. */
  'terminals:attach': [[options: { containerId: string; cols: number; rows: number }], string];
  'terminals:input': [[sessionId: string, data: string], void];
  'terminals:resize': [[sessionId: string, cols: number, rows: number], void];
  'terminals:close': [[sessionId: string], void];
  'stats:open': [[id: string], string];
  'stats:close': [[streamId: string], void];
  'jobs:list': [[], JobView[]];
  'jobs:cancel': [[id: string], void];
  'engine:status': [[], EngineStatus];
  'settings:get': [[], Settings];
  'settings:set': [[patch: Partial<Settings>], Settings];
}

/** Event channels: main → renderer pushes. */
export interface EventChannels {
  /** What changed in the container list (from /events, not polling); a reset after (re)connecting. */
  'containers:changed': ContainersChange;
  'images:changed': ImageView[];
  /** Progress of a pull started from the app, per layer, a few times a second; the last has done. */
  'images:pull': PullProgress;
  /** A build's log as the engine reports it: text for a terminal (newlines not yet CRLF). */
  'builds:output': { buildId: string; data: string };
  'builds:end': BuildEnd;
  'volumes:changed': VolumeView[];
  'networks:changed': NetworkView[];
  'logs:data': { streamId: string; chunks: LogChunk[] };
  'logs:end': { streamId: string; error?: string };
  'terminals:data': { sessionId: string; data: string };
  'terminals:exit': { sessionId: string; error?: string };
  'stats:sample': { streamId: string; sample: ContainerStatsSample };
  'jobs:changed': JobView;
  /** The job list starts over (another engine was chosen); the payload is the new list. */
  'jobs:reset': JobView[];
  'engine:status': EngineStatus;
  'settings:changed': Settings;
  /** Main asks the window to show a container (from the tray or a notification). */
  'app:navigate': { containerId: string; tab: 'logs' | 'terminal' };
}

export type RequestChannel = keyof RequestChannels;
export type EventChannel = keyof EventChannels;
export type RequestArgs<C extends RequestChannel> = RequestChannels[C][0];
export type RequestResult<C extends RequestChannel> = RequestChannels[C][1];

/** The request channels at run time, for building the API object and validating senders. */
export const requestChannels = [
  'containers:list', 'containers:inspect', 'containers:start', 'containers:stop', 'containers:restart',
  'containers:pause', 'containers:unpause', 'containers:kill', 'containers:remove', 'containers:run',
  'containers:files', 'containers:readFile',
  'images:list', 'images:remove', 'images:tag', 'images:prune', 'images:pull', 'images:detail', 'images:tree',
  'builds:host', 'builds:pickContext', 'builds:inspectContext', 'builds:start', 'builds:cancel',
  'volumes:list', 'volumes:remove', 'volumes:prune', 'networks:list', 'networks:remove',
  'logs:open', 'logs:close',
  'terminals:open', 'terminals:attach', 'terminals:input', 'terminals:resize', 'terminals:close',
  'stats:open', 'stats:close',
  'jobs:list', 'jobs:cancel', 'engine:status', 'settings:get', 'settings:set',
] as const satisfies readonly RequestChannel[];

export const eventChannels = [
  'containers:changed', 'images:changed', 'images:pull', 'builds:output', 'builds:end', 'volumes:changed', 'networks:changed',
  'logs:data', 'logs:end', 'terminals:data', 'terminals:exit', 'stats:sample',
  'jobs:changed', 'jobs:reset', 'engine:status', 'settings:changed', 'app:navigate',
] as const satisfies readonly EventChannel[];

// Compile-time check that the run-time lists name every channel of the tables.
type Missing<All, Listed> = Exclude<All, Listed>;
const everyRequestListed: Missing<RequestChannel, (typeof requestChannels)[number]> extends never ? true : never = true;
const everyEventListed: Missing<EventChannel, (typeof eventChannels)[number]> extends never ? true : never = true;
void everyRequestListed; void everyEventListed;

export function isRequestChannel(name: unknown): name is RequestChannel {
  return typeof name === 'string' && (requestChannels as readonly string[]).includes(name);
}

export function isEventChannel(name: unknown): name is EventChannel {
  return typeof name === 'string' && (eventChannels as readonly string[]).includes(name);
}
