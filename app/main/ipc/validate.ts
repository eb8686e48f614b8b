// Every argument that crosses from a window into main is checked here before a service sees it:
// a renderer (or a web page) is not trusted to send well-formed values.
import type { RequestArgs, RequestChannel } from '../../shared/contract.js';
import { EngineError } from '../engine/engine-error.js';
import { buildArgProblem, dockerfilePathProblem, tagProblem, targetProblem } from '../../shared/build-form.js';

type Check = (value: unknown, name: string) => void;

const bad = (name: string, what: string): EngineError => new EngineError(400, `invalid argument ${name}: ${what}`);

// Ids go into URL paths; the engine client percent-encodes them, so only sanity is checked here.
const id: Check = (v, name) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256 || v.includes('\0')) throw bad(name, 'expected a non-empty name or id');
};
const text = (max: number): Check => (v, name) => {
  if (typeof v !== 'string' || v.length > max) throw bad(name, `expected a string of at most ${max} characters`);
};
const int = (min: number, max: number): Check => (v, name) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(name, `expected an integer from ${min} to ${max}`);
};
const object = (fields: Record<string, Check | undefined>, optional: string[] = []): Check => (v, name) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(name, 'expected an object');
  for (const key of Object.keys(v)) if (!(key in fields)) throw bad(name, `unknown field "${key}"`);
  for (const [key, check] of Object.entries(fields)) {
    const value = (v as Record<string, unknown>)[key];
    if (value === undefined && optional.includes(key)) continue;
    check?.(value, `${name}.${key}`);
  }
};
const bool: Check = (v, name) => {
  if (typeof v !== 'boolean') throw bad(name, 'expected true or false');
};
const oneOf = (...values: unknown[]): Check => (v, name) => {
  if (!values.includes(v)) throw bad(name, `expected one of ${values.join(', ')}`);
};
const tail: Check = (v, name) => {
  if (v !== 'all') int(0, 10_000_000)(v, name);
};
const stringList: Check = (v, name) => {
  if (!Array.isArray(v) || v.length > 64 || v.some((s) => typeof s !== 'string' || s.length > 4096)) throw bad(name, 'expected a list of strings');
};

const list = (each: Check, max: number): Check => (v, name) => {
  if (!Array.isArray(v) || v.length > max) throw bad(name, `expected a list of at most ${max} items`);
  v.forEach((item, i) => each(item, `${name}[${i}]`));
};
/** A text field that must also pass one of the build form's checks (shared with the renderer). */
const checked = (max: number, problem: (v: string) => string | undefined): Check => (v, name) => {
  text(max)(v, name);
  const p = problem(v as string);
  if (p) throw bad(name, p);
};
/** A map of names to strings (build args); names are checked by `key`. */
const stringMap = (key: (k: string) => string | undefined, max: number): Check => (v, name) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(name, 'expected an object');
  const entries = Object.entries(v);
  if (entries.length > max) throw bad(name, `expected at most ${max} entries`);
  for (const [k, value] of entries) {
    const p = key(k);
    if (p) throw bad(name, p);
    text(32768)(value, `${name}.${k}`);
  }
};
const buildRequest = object({
  context: text(4096), dockerfile: checked(4096, dockerfilePathProblem), tags: list(checked(512, tagProblem), 64),
  buildArgs: stringMap(buildArgProblem, 256), noCache: bool, pull: bool, target: checked(128, targetProblem),
}, ['target']);

const portMapping = object({ hostPort: int(0, 65535), containerPort: int(1, 65535), protocol: oneOf('tcp', 'udp') });
const runOptions = object({
  image: text(512), name: text(128), cmd: stringList, env: list(text(32768), 512), ports: list(portMapping, 256),
  volumes: list(text(4096), 256), restart: oneOf('no', 'always', 'unless-stopped', 'on-failure'),
}, ['name', 'cmd', 'env', 'ports', 'volumes', 'restart']);

const none: Check[] = [];
const byId: Check[] = [id];

const argChecks: { [C in RequestChannel]: Check[] } = {
  'containers:list': none,
  'containers:inspect': byId, 'containers:start': byId, 'containers:stop': byId, 'containers:restart': byId,
  'containers:pause': byId, 'containers:unpause': byId, 'containers:kill': byId,
  'containers:remove': [id, object({ force: bool })],
  'containers:run': [runOptions],
  'containers:files': [id, text(4096)],
  'containers:readFile': [id, text(4096)],
  'images:list': none,
  'images:remove': [id, object({ force: bool })],
  'images:pull': [text(512)],
  'images:tag': [id, text(512)],
  'images:prune': [object({ all: bool })],
  'images:detail': [id],
  'images:tree': [id, int(0, 10_000), object({ path: text(4096), offset: int(0, 1 << 30), limit: int(1, 5000), changesOnly: bool })],
  'builds:host': none, 'builds:pickContext': none,
  'builds:inspectContext': [text(4096)],
  'builds:start': [buildRequest],
  'builds:cancel': byId,
  'volumes:list': none, 'volumes:remove': byId, 'volumes:prune': none,
  'networks:list': none, 'networks:remove': byId,
  'logs:open': [object({ id, follow: bool, timestamps: bool, tail, since: text(64) }, ['since'])],
  'logs:close': byId,
  'terminals:open': [object({ containerId: id, cmd: stringList, cols: int(1, 1000), rows: int(1, 1000) }, ['cmd'])],
  'terminals:attach': [object({ containerId: id, cols: int(1, 1000), rows: int(1, 1000) })],
  'terminals:input': [id, text(1 << 20)],
  'terminals:resize': [id, int(1, 1000), int(1, 1000)],
  'terminals:close': byId,
  'stats:open': byId, 'stats:close': byId,
  'jobs:list': none, 'jobs:cancel': byId,
  'engine:status': none,
  'settings:get': none,
  'settings:set': [object({ theme: oneOf('light', 'dark', 'system'), endpoint: text(1024) }, ['theme', 'endpoint'])],
};

export function validateArgs<C extends RequestChannel>(channel: C, args: unknown): RequestArgs<C> {
  if (!Array.isArray(args)) throw bad('list', 'expected an argument list');
  const checks = argChecks[channel];
  if (args.length !== checks.length) throw new EngineError(400, `${channel} takes ${checks.length} argument(s), got ${args.length}`);
  checks.forEach((check, i) => check(args[i], `#${i + 1}`));
  return args as RequestArgs<C>;
}
