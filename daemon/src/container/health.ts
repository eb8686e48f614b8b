// Health checks (HEALTHCHECK / --health-cmd): the test runs as an exec process every interval;
// `retries` failures in a row make the container unhealthy, one success healthy. Failures in the
// start period do not count. Each change of status is a `health_status: …` event.
import { randomBytes } from 'node:crypto';
import type { Container } from './container';
import type { Task } from '../drivers/exec/exec-driver';
import type { Containers } from './containers';

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
/** dockerd keeps this many results and this much of each output. */
const KEEP_RESULTS = 5;
const MAX_OUTPUT = 4096;

const ms = (nanos: number | undefined, fallback: number) => (nanos && nanos > 0 ? nanos / 1e6 : fallback);

export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private inFlight?: Promise<void>;
  private readonly startedAt = Date.now();

  constructor(private readonly containers: Containers, private readonly c: Container) {}

  start(): void {
    this.schedule();
  }

  /** Stops probing; resolves once a probe in flight has cleaned up its exec process. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.inFlight ?? Promise.resolve();
  }

  private get config() {
    return this.c.record.Config.Healthcheck ?? {};
  }

  private schedule(): void {
    if (this.stopped) return;
    const cfg = this.config;
    const inStart = Date.now() - this.startedAt < ms(cfg.StartPeriod, 0);
    const interval = inStart && cfg.StartInterval ? ms(cfg.StartInterval, DEFAULT_INTERVAL_MS) : ms(cfg.Interval, DEFAULT_INTERVAL_MS);
    this.timer = setTimeout(() => {
      this.inFlight = this.probe().finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
    }, interval);
  }

  private command(): string[] {
    const test = this.config.Test ?? [];
    if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
    if (test[0] === 'CMD') return test.slice(1);
    return test;
  }

  private async probe(): Promise<void> {
    const c = this.c;
    const task = this.containers.task(c);
    const health = c.state.Health;
    if (!task || !health || !c.running || c.state.Paused) return;
    const start = new Date();
    let exitCode = -1;
    let output = '';
    const id = `health-${randomBytes(8).toString('hex')}`;
    let exec: Task | undefined;
    try {
      const base = this.containers.spec(c).process;
      exec = await task.exec(id, { process: { ...base, terminal: false, args: this.command() }, tty: false, openStdin: false });
      const session = await exec.attach({ stdout: true, stderr: true });
      const collect = (chunk: Buffer) => {
        if (output.length < MAX_OUTPUT) output += chunk.toString('utf8');
      };
      session.stdout.on('data', collect);
      session.stderr.on('data', collect);
      await exec.start();
      const timeout = ms(this.config.Timeout, DEFAULT_TIMEOUT_MS);
      const result = await Promise.race([exec.wait(), new Promise<null>((r) => setTimeout(() => r(null), timeout))]);
      if (result === null) {
        output = `Health check exceeded timeout (${timeout / 1000}s)`;
        await exec.kill(9).catch(() => undefined);
      } else {
        exitCode = result.exitCode;
      }
    } catch (err) {
      output = (err as Error).message;
    } finally {
      // Whatever happened (the container may have died meanwhile), the exec's shim state goes.
      await exec?.delete().catch(() => undefined);
    }
    if (this.stopped) return;
    const previous = health.Status;
    health.Log.push({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output.slice(0, MAX_OUTPUT) });
    if (health.Log.length > KEEP_RESULTS) health.Log.splice(0, health.Log.length - KEEP_RESULTS);
    if (exitCode === 0) {
      health.FailingStreak = 0;
      health.Status = 'healthy';
    } else {
      const inStart = Date.now() - this.startedAt < ms(this.config.StartPeriod, 0);
      if (!(inStart && previous === 'starting')) {
        health.FailingStreak++;
        if (health.FailingStreak >= (this.config.Retries && this.config.Retries > 0 ? this.config.Retries : DEFAULT_RETRIES)) health.Status = 'unhealthy';
      }
    }
    if (this.containers.store.find(c.id) === c) this.containers.store.save(c);
    if (health.Status !== previous) this.containers.emit(c, `health_status: ${health.Status}`);
  }
}
