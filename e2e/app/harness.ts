// What the app's end-to-end tests stand on: an engine (berthd or the reference dockerd, chosen by
// BERTH_APP_ENGINE), the docker CLI pointed at it, `berth web` as a real process, and Chromium
// driven by playwright-core with a fresh profile.
//
//   BERTH_APP_ENGINE=berthd      a private berthd from dist/ (e2e/berthd.ts): the default
//   BERTH_APP_ENGINE=reference   Debian's dockerd via ../shared/tools/reference-dockerd
//   BERTH_APP_ENGINE=unix:///…   any running engine
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot, startBerthd } from '../berthd';
import { startReferenceDockerd } from '../reference';
import { ensureFixtures } from '../fixtures/fixtures';

const run = promisify(execFile);

export interface TestEngine {
  kind: string;
  /** A busybox image the engine has: busybox:ref on the reference engine, the fixture on berthd. */
  image: string;
  /** DOCKER_HOST form. */
  endpoint: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The UI is tested against a real berthd; BERTH_APP_ENGINE=reference (or a URL) runs it against another engine. */
export const engineChoice = process.env.BERTH_APP_ENGINE ?? 'berthd';

export async function startTestEngine(): Promise<TestEngine> {
  const choice = engineChoice;
  if (choice === 'berthd') {
    const b = await startBerthd();
    const fixtures = await ensureFixtures();
    await run('docker', ['load', '-i', fixtures.busybox.dockerArchive], { env: b.env, timeout: 120_000 });
    return { kind: 'berthd', image: 'busybox:latest', endpoint: `unix://${b.socket}`, env: b.env, stop: async () => void (await b.stop()) };
  }
  if (choice === 'reference') {
    const r = startReferenceDockerd();
    if (!r) throw new Error('reference-dockerd is not available beside the repository (../shared/tools)');
    // Shared with other tests: leave it running; each test removes the containers it made.
    return { kind: 'reference', image: 'busybox:ref', endpoint: `unix://${r.socket}`, env: r.env, stop: async () => undefined };
  }
  return { kind: choice, image: process.env.BERTH_APP_IMAGE ?? 'busybox:latest', endpoint: choice, env: { ...process.env, DOCKER_HOST: choice }, stop: async () => undefined };
}

/** Container names unique to this run, so parallel runs and leftovers never collide. */
export function uniqueName(base: string): string {
  return `berth-app-${base}-${randomBytes(3).toString('hex')}`;
}

export async function docker(engine: TestEngine, ...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { env: engine.env, encoding: 'utf8', timeout: 60_000 });
  return stdout.trim();
}

export async function removeContainers(engine: TestEngine, names: string[]): Promise<void> {
  if (names.length) await docker(engine, 'rm', '-f', ...names).catch(() => undefined);
}

export interface WebMode {
  url: string;
  port: number;
  token: string;
  process: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs `bin/berth web --port 0 --engine …` and reads the URL from its first line. */
export async function startWebMode(endpoint: string): Promise<WebMode> {
  const configHome = mkdtempSync(path.join(tmpdir(), 'berth-web-config-'));
  const child = spawn(path.join(repoRoot, 'bin', 'berth'), ['web', '--port', '0', '--engine', endpoint], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_CONFIG_HOME: configHome },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`berth web printed no URL; stderr:\n${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth web exited with ${code}; stderr:\n${err}`));
    });
  });
  const parsed = new URL(url);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token') ?? '',
    process: child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(configHome, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh profile that is removed afterwards. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'berth-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 720 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** `berth web` on `endpoint` and Chromium showing it: what every UI test starts with. */
export async function openApp(endpoint: string): Promise<{ web: WebMode; browser: Browser; page: Page }> {
  const web = await startWebMode(endpoint);
  try {
    const browser = await launchBrowser();
    await browser.page.goto(web.url);
    return { web, browser, page: browser.page };
  } catch (err) {
    await web.stop();
    throw err;
  }
}

export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'app');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Every line of the xterm buffer of the element at `selector` (what the terminal holds, not just
 * what is drawn). The app hangs its Terminal on the element; the script runs in the page, written
 * as a string because the tests are type-checked without the DOM library.
 */
export function xtermText(page: Page, selector: string): Promise<string> {
  return page.evaluate<string>(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const buffer = el && el.terminal && el.terminal.buffer.active;
    if (!buffer) return '';
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\\n');
  })()`);
}
