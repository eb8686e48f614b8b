// Pulling from a loopback registry in the app: per-layer progress while it runs, and the image in
// the list when it ends. The registry is Debian's docker-registry holding the fixture images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureFixtures, startRegistry, type Registry } from '../fixtures/fixtures';
import { docker, screenshot, startTestEngine, uniqueName, type Browser, type TestEngine, type WebMode, engineChoice, openApp } from './harness';

const run = promisify(execFile);

/**
 * Pushes busybox plus one layer of fresh random bytes as a new repository, without any daemon
 * (umoci adds the layer, skopeo pushes). The engine cannot already hold that layer, so the pull
 * has real progress to show even on a shared engine.
 */
async function pushUniqueImage(registry: Registry, megabytes: number): Promise<string> {
  const fixtures = await ensureFixtures();
  const work = mkdtempSync(path.join(tmpdir(), 'berth-unique-image-'));
  try {
    const layout = path.join(work, 'oci');
    cpSync(fixtures.busybox.ociLayout, layout, { recursive: true });
    const files = path.join(work, 'files');
    mkdirSync(files);
    writeFileSync(path.join(files, 'random.bin'), randomBytes(megabytes << 20));
    await run('tar', ['-C', files, '-cf', path.join(work, 'layer.tar'), 'random.bin']);
    await run('umoci', ['raw', 'add-layer', '--image', `${layout}:latest`, path.join(work, 'layer.tar')]);
    const reference = `${registry.address}/${uniqueName('pull')}:latest`;
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${reference}`], { timeout: 120_000 });
    return reference;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let engine: TestEngine;
let registry: Registry;
let web: WebMode;
let browser: Browser;
let page: Page;
let reference: string;

beforeAll(async () => {
  engine = await startTestEngine();
  registry = await startRegistry(undefined, { images: [] });
  reference = await pushUniqueImage(registry, 48);
  ({ web, browser, page } = await openApp(engine.endpoint));
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  if (engine && reference) await docker(engine, 'rmi', '-f', reference).catch(() => undefined);
  await registry?.stop();
  await engine?.stop();
});

describe(`pull in the app against ${engineChoice}`, () => {
  it('shows per-layer progress while pulling and lists the image when done', async () => {
    await page.getByRole('button', { name: /^Images/ }).click();
    await page.getByLabel('Image to pull').fill(reference);
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    const card = page.locator(`[data-pull="${reference}"]`);
    await card.waitFor({ timeout: 60_000 });
    // Both layers get a line (busybox's may already exist); the new one reports its bytes.
    await expect.poll(() => card.locator('.pull-layer').count(), { timeout: 60_000 }).toBe(2);
    await card.locator('.pull-layer progress').first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'images-pulling');
    await page.getByLabel('Filter images').fill(reference);
    await page.locator('.image-row', { hasText: reference }).waitFor({ timeout: 300_000 });
    await expect.poll(() => page.locator('.notice', { hasText: `Pulled ${reference}` }).count(), { timeout: 30_000 }).toBe(1);
    expect(await docker(engine, 'image', 'inspect', '-f', '{{len .RootFS.Layers}}', reference)).toBe('2');
    await screenshot(page, 'images-pulled');
  }, 400_000);

  it('reports a pull that fails in the engine\'s words', async () => {
    const missing = `${registry.address}/no-such-image:latest`;
    await page.getByLabel('Image to pull').fill(missing);
    await page.getByRole('button', { name: 'Pull', exact: true }).click();
    await expect.poll(() => page.locator('.notice.error', { hasText: `Pulling ${missing} failed` }).count(), { timeout: 60_000 }).toBe(1);
  });
});
