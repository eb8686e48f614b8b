// A container's state and the transitions between its states, as dockerd's container.State:
//
//   created ──start──▶ running ◀──unpause── paused
//      ▲                │  ▲  └──pause──▶───┘
//      │              exit │
//      │                ▼  │ (restart policy)
//      │             exited / restarting
//   any ──remove──▶ removing ──▶ (gone)     any ──failure to clean up──▶ dead
//
// `Running` stays true while paused or restarting, as in dockerd, so API clients read it the same way.
import { conflict } from '../errors';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** Exactly the `State` object of GET /containers/{id}/json. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export const newState = (): ContainerState => ({
  Status: 'created',
  Running: false,
  Paused: false,
  Restarting: false,
  OOMKilled: false,
  Dead: false,
  Pid: 0,
  ExitCode: 0,
  Error: '',
  StartedAt: ZERO_TIME,
  FinishedAt: ZERO_TIME,
});

export function setRunning(s: ContainerState, pid: number, at = new Date()): void {
  s.Status = 'running';
  s.Running = true;
  s.Paused = false;
  s.Restarting = false;
  s.Dead = false;
  s.OOMKilled = false;
  s.Error = '';
  s.ExitCode = 0;
  s.Pid = pid;
  s.StartedAt = at.toISOString();
  if (s.Health) s.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
}

export interface ExitInfo {
  exitCode: number;
  oomKilled?: boolean;
  at?: Date;
  error?: string;
}

export function setStopped(s: ContainerState, exit: ExitInfo): void {
  s.Status = 'exited';
  s.Running = false;
  s.Paused = false;
  s.Restarting = false;
  s.Pid = 0;
  s.ExitCode = exit.exitCode;
  s.OOMKilled = exit.oomKilled ?? false;
  s.Error = exit.error ?? '';
  s.FinishedAt = (exit.at ?? new Date()).toISOString();
}

/** The process exited and the restart policy will start it again after a back-off. */
export function setRestarting(s: ContainerState, exit: ExitInfo): void {
  setStopped(s, exit);
  s.Status = 'restarting';
  s.Running = true;
  s.Restarting = true;
}

/** A start that failed before the process ran: dockerd records the error and exit code 128 (or 127/126). */
export function setStartFailed(s: ContainerState, error: string, exitCode: number): void {
  s.Status = s.StartedAt === ZERO_TIME ? 'created' : 'exited';
  s.Running = false;
  s.Restarting = false;
  s.Paused = false;
  s.Pid = 0;
  s.Error = error;
  s.ExitCode = exitCode;
  if (s.StartedAt !== ZERO_TIME) s.FinishedAt = new Date().toISOString();
}

export function setPaused(s: ContainerState, paused: boolean): void {
  s.Paused = paused;
  s.Status = paused ? 'paused' : 'running';
}

export function setRemoving(s: ContainerState): void {
  if (s.Status === 'removing') throw conflict('removal of container is already in progress');
  s.Status = 'removing';
}

export function setDead(s: ContainerState): void {
  s.Status = 'dead';
  s.Dead = true;
  s.Running = false;
  s.Paused = false;
  s.Restarting = false;
  s.Pid = 0;
}

/** Back from `removing` when a removal failed. */
export function restoreAfterFailedRemoval(s: ContainerState): void {
  if (s.Status !== 'removing') return;
  if (s.Dead) s.Status = 'dead';
  else if (s.Running) s.Status = s.Paused ? 'paused' : 'running';
  else s.Status = s.StartedAt === ZERO_TIME ? 'created' : 'exited';
}

/** go-units' HumanDuration, which `docker ps` shows in STATUS ("Up 3 minutes", "Exited (0) 2 hours ago"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hoursRounded = Math.round(ms / 3_600_000);
  const hours = Math.floor(ms / 3_600_000);
  if (hoursRounded === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/**
 * The human `Status` column of GET /containers/json. `parse` reads the RFC 3339 times (the list
 * passes one that remembers them: it describes every container on every request).
 */
export function describeState(s: ContainerState, now = Date.now(), parse: (time: string) => number = Date.parse): string {
  const since = (t: string) => humanDuration(Math.max(0, now - parse(t)));
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    const health = s.Health?.Status;
    const suffix = health === 'starting' ? ' (health: starting)' : health === 'healthy' || health === 'unhealthy' ? ` (${health})` : '';
    return `Up ${since(s.StartedAt)}${suffix}`;
  }
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

/** The `State` column of GET /containers/json: the status word. */
export const stateWord = (s: ContainerState): ContainerStatus => s.Status;
