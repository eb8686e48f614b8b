// `berth web [--port N] [--engine URL]`: serves the app in a browser on 127.0.0.1. The first line
// printed is the URL with its token; open it in a browser on this machine.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BerthServices } from '../services/berth-services.js';
import { startWebServer } from './web-server.js';

const usage = 'usage: berth web [--port N] [--engine unix:///path|tcp://host:port]';

async function main(): Promise<void> {
  let values: { port?: string; engine?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string' }, engine: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    console.error(`berth web: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`berth web: invalid port "${values.port}"\n${usage}`);
    process.exit(2);
  }
  // The bundle sits in dist/; the renderer it serves is dist/renderer.
  const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'renderer');
  if (!existsSync(path.join(staticDir, 'web.html'))) {
    console.error(`berth web: ${staticDir}/web.html is missing: run 'npm run build' first`);
    process.exit(1);
  }
  const configHome = process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  const services = new BerthServices({
    // With --engine the run is ad hoc: settings stay in memory and the saved ones are untouched.
    settingsFile: values.engine === undefined ? path.join(configHome, 'berth', 'settings.json') : undefined,
    endpoint: values.engine,
  });
  // For the bench: one line per engine event with the engine's stamp and the moment it reached this
  // process (ms since 1970, fractional).
  if (process.env.BERTH_TRACE_EVENTS) {
    services.engine.traceEvent = (e, at) => process.stderr.write(`berth web: event ${e.Type} ${e.Action} ${e.Actor?.ID ?? '-'} stamped ${((e.timeNano ?? 0) / 1e6).toFixed(3)} received ${at.toFixed(3)}\n`);
  }
  services.start();
  const server = await startWebServer({ services, staticDir, port });
  console.log(server.url);
  console.error(`berth web: serving on 127.0.0.1:${server.port} (engine ${services.engine.status().endpoint || 'default'}); Ctrl-C to stop`);
  const stop = async (): Promise<void> => {
    services.stop();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
