// The build view in Chromium through web mode: a Dockerfile built from a temporary folder (a
// build arg, a COPY, a RUN), its live log in the xterm terminal, the image opened in the image
// browser with the copied file in its layer; a failing RUN with dockerd's message; a cancel that
// leaves no container behind; and the builds in Activity (berthd's jobs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { EngineClient } from '../../app/main/engine/engine-client';
import { parseEndpoint } from '../../app/main/engine/endpoint';
import { docker, engineChoice, screenshot, startTestEngine, uniqueName, xtermText, type Browser, type TestEngine, type WebMode, openApp } from './harness';

let engine: TestEngine;
let web: WebMode;
let browser: Browser;
let page: Page;
let client: EngineClient;
let folder: string;
const tag = `${uniqueName('built')}:v1`;

beforeAll(async () => {
  engine = await startTestEngine();
  client = new EngineClient(parseEndpoint(engine.endpoint));
  folder = mkdtempSync(path.join(tmpdir(), 'berth-build-view-'));
  const from = `FROM ${engine.image}\n`;
  writeFileSync(path.join(folder, 'Dockerfile'), `${from}ARG GREETING=hello\nCOPY greeting.txt /app/greeting.txt\nRUN echo "$GREETING from the build" | tee /app/built.txt\n`);
  writeFileSync(path.join(folder, 'greeting.txt'), 'copied into the image\n');
  writeFileSync(path.join(folder, 'fail.Dockerfile'), `${from}RUN echo before-the-failure\nRUN exit 3\n`);
  writeFileSync(path.join(folder, 'slow.Dockerfile'), `${from}RUN sleep 60\n`);
  ({ web, browser, page } = await openApp(engine.endpoint));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  if (engine) await docker(engine, 'rmi', tag).catch(() => undefined);
  client?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
  await engine?.stop();
});

/** Every line of the build log's xterm buffer. */
const buildLog = () => xtermText(page, '[data-testid=build-log]');

/** The engine's containers: id and command. */
async function containers(): Promise<{ id: string; command: string }[]> {
  const lines = (await docker(engine, 'ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Command}}')).split('\n').filter(Boolean);
  return lines.map((l) => ({ id: l.slice(0, l.indexOf(' ')), command: l.slice(l.indexOf(' ') + 1) }));
}

/**
 * Containers made since `before` that run `step`: a build step left behind. (The reference engine
 * is shared with other tests, so only this build's steps count.)
 */
async function leftSteps(before: Set<string>, step: string): Promise<string[]> {
  return (await containers()).filter((c) => !before.has(c.id) && c.command.includes(step)).map((c) => c.id);
}

const ids = async (): Promise<Set<string>> => new Set((await containers()).map((c) => c.id));

async function chooseDockerfile(name: string): Promise<void> {
  await page.getByLabel('Dockerfile', { exact: true }).selectOption(name);
}

describe(`the build view against ${engineChoice}`, () => {
  it('says when a typed folder does not exist', async () => {
    await page.getByRole('button', { name: /^Images/ }).click();
    await screenshot(page, `images-${engine.kind}-build-button`);
    await page.getByRole('button', { name: 'Build…' }).click();
    const missing = path.join(folder, 'missing');
    await page.getByLabel('Context folder').fill(missing);
    await page.getByLabel('Context folder').press('Enter');
    await page.getByText(`unable to prepare context: path "${missing}" not found`).waitFor({ timeout: 15_000 });
  });

  it('builds a folder with a build arg, streams the log, and opens the image with the copied file', async () => {
    await page.getByLabel('Context folder').fill(folder);
    await page.getByLabel('Context folder').press('Enter');
    // The folder's Dockerfiles are offered, the root Dockerfile first.
    await expect.poll(() => page.getByLabel('Dockerfile', { exact: true }).locator('option').allTextContents(), { timeout: 15_000 })
      .toEqual(['Dockerfile', 'fail.Dockerfile', 'slow.Dockerfile']);
    await page.getByLabel('Tags').fill(tag);
    await page.getByLabel('Build arg 1 name').fill('GREETING');
    await page.getByLabel('Build arg 1 value').fill('bonjour');
    await page.getByRole('button', { name: 'Build', exact: true }).click();

    // Success opens the image browser on the new image.
    await page.locator(`section[aria-label="Image ${tag}"]`).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('.layer-instruction').allTextContents(), { timeout: 15_000 }).toContainEqual(expect.stringContaining('COPY'));
    if (engine.kind === 'berthd') {
      const copyLayer = (await page.locator('.layer-instruction').allTextContents()).findIndex((t) => t.includes('COPY'));
      await page.locator(`.layer[data-layer="${copyLayer}"]`).click();
      await page.locator('[data-entry="/app"] button').click();
      await expect.poll(() => page.locator('[data-entry="/app/greeting.txt"]').getAttribute('data-change'), { timeout: 15_000 }).toBe('added');
    }
    expect(await docker(engine, 'run', '--rm', tag, 'cat', '/app/built.txt')).toBe('bonjour from the build');

    // The log stays with the build: back to it, the whole stream is in the terminal.
    await page.getByRole('button', { name: 'Back to the build' }).click();
    await expect.poll(buildLog, { timeout: 15_000 }).toMatch(/Successfully built [0-9a-f]{12}/);
    const log = await buildLog();
    expect(log).toMatch(/^Sending build context to Docker daemon {2}\d/m);
    expect(log).toContain('Step 1/4 : FROM');
    expect(log).toContain('bonjour from the build');
    expect(log).toContain(`Successfully tagged ${tag}`);
    await page.locator('[data-build-state="succeeded"]').waitFor();
    await screenshot(page, `build-view-${engine.kind}`);
  });

  it('shows dockerd\'s error when a RUN fails, and leaves no container behind', async () => {
    await chooseDockerfile('fail.Dockerfile');
    await page.getByLabel('Tags').fill('');
    const before = await ids();
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    const message = "The command '/bin/sh -c exit 3' returned a non-zero code: 3";
    await page.locator('[data-build-state="failed"] .build-error', { hasText: message }).waitFor({ timeout: 60_000 });
    await expect.poll(buildLog, { timeout: 15_000 }).toContain(message);
    expect(await buildLog()).toContain('before-the-failure');
    await expect.poll(() => leftSteps(before, 'exit 3'), { timeout: 15_000 }).toEqual([]);
    // The failing step's container is the build's business: no "died" notice, no job notice beside the view's own.
    const notices = await page.locator('.notice').allTextContents();
    expect(notices.filter((n) => /died with exit code|image\.build failed/.test(n))).toEqual([]);
    await screenshot(page, `build-view-failed-${engine.kind}`);
  });

  it('cancels a build by closing its request: the engine stops it and removes its container', async () => {
    await chooseDockerfile('slow.Dockerfile');
    const before = await ids();
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await expect.poll(buildLog, { timeout: 30_000 }).toContain('RUN sleep 60');
    // The step's container runs; cancel it.
    await expect.poll(async () => (await leftSteps(before, 'sleep 60')).length, { timeout: 30_000 }).toBe(1);
    await page.locator('[data-build-state="running"]').waitFor();
    await screenshot(page, `build-view-running-${engine.kind}`);
    await page.getByRole('button', { name: 'Cancel build' }).click();
    await page.locator('[data-build-state="cancelled"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => leftSteps(before, 'sleep 60'), { timeout: 30_000 }).toEqual([]);
    if (engine.kind === 'berthd') {
      await expect.poll(async () => (await client.listJobs()).filter((j) => j.name === 'image.build').map((j) => j.state).sort(), { timeout: 15_000 })
        .toEqual(['cancelled', 'failed', 'succeeded']);
    }
  });

  it('shows the builds in Activity, from berthd\'s job feed', async () => {
    if (engine.kind !== 'berthd') return;
    await page.getByRole('button', { name: /^Activity/ }).click();
    for (const state of ['succeeded', 'failed', 'cancelled']) {
      await page.locator(`.job-${state}[data-job="image.build"]`).waitFor({ timeout: 15_000 });
    }
    expect(await page.locator(`.job-succeeded[data-job="image.build"]`).textContent()).toContain(`docker build -t ${tag}`);
  });
});
