// berthd's entry point: flags and config file, then the Daemon; signals drive reload and shutdown.
import { ConfigError, loadConfig, usage } from './config';
import { Daemon } from './daemon';
import { log } from './log';
import { BERTH_VERSION } from './version';

async function main(argv: string[]): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${(err as Error).message}\n${err instanceof ConfigError ? 'See berthd --help.\n' : ''}`);
    process.exit(1);
  }
  if (loaded.help) {
    process.stdout.write(usage);
    return;
  }
  if (loaded.version) {
    process.stdout.write(`Berth version ${BERTH_VERSION}\n`);
    return;
  }
  // Source-mapped stack traces cost about 11 MiB of resident memory: only when debugging.
  if (loaded.config.logLevel === 'debug') process.setSourceMapsEnabled(true);
  // The API answers /_ping before the components have opened (Daemon.start), so signals are handled
  // from the start: they act once start-up is done.
  const starting = Daemon.start(loaded.config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn(`received ${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`received ${signal}: draining`);
    starting.then((daemon) => daemon.shutdown()).then(() => process.exit(0), (err) => {
      log.error('shutdown failed', { err: (err as Error).message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    void starting.then((daemon) => {
      try {
        daemon.reload(argv);
      } catch (err) {
        log.error('configuration reload failed; keeping the current one', { err: (err as Error).message });
      }
    }, () => undefined);
  });
  let daemon: Daemon;
  try {
    daemon = await starting;
  } catch (err) {
    log.log('fatal', `failed to start daemon: ${(err as Error).message}`);
    process.exit(1);
  }
  log.info('berthd has completed initialization', { version: BERTH_VERSION, hosts: daemon.addresses.join(',') });
}

void main(process.argv.slice(2));
