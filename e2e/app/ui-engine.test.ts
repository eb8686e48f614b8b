// The parts of the app that need no containers, in Chromium through web mode: engine status,
// the image list kept current from events, and Activity — berthd's jobs live from its job feed
// (other engines have none, and the view says so).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { docker, screenshot, startTestEngine, uniqueName, type Browser, type TestEngine, type WebMode, engineChoice, openApp } from './harness';

let engine: TestEngine;
let web: WebMode;
let browser: Browser;
let page: Page;
const tag = `${uniqueName('tagged')}:e2e`;

beforeAll(async () => {
  engine = await startTestEngine();
  ({ web, browser, page } = await openApp(engine.endpoint));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  if (engine) await docker(engine, 'rmi', tag).catch(() => undefined);
  await engine?.stop();
});

describe(`engine, images and activity against ${engineChoice}`, () => {
  it('shows the engine connected, with its name and the negotiated API version', async () => {
    await page.locator('.engine[data-connection="connected"]').waitFor({ timeout: 15_000 });
    const text = await page.locator('.engine').textContent();
    expect(text).toContain(engine.kind === 'berthd' ? 'berthd' : 'API 1.');
    expect(text).toMatch(/API 1\.\d+/);
  });

  it('lists images, and a tag made with the docker CLI appears without a reload', async () => {
    await page.getByRole('button', { name: /^Images/ }).click();
    await page.getByLabel('Filter images').fill(engine.image);
    await page.locator(`[data-image="${engine.image}"]`).waitFor({ timeout: 15_000 });
    await docker(engine, 'tag', engine.image, tag);
    await page.getByLabel('Filter images').fill(tag);
    await expect.poll(() => page.locator('.image-row').count(), { timeout: 15_000 }).toBe(1);
    await screenshot(page, `images-${engine.kind}`);
  });

  it('shows the engine\'s jobs in Activity, or says the engine has none', async () => {
    await page.getByRole('button', { name: /^Activity/ }).click();
    if (engine.kind === 'berthd') {
      // The tag above ran as a job; its line came over the live job feed.
      await page.locator('.job[data-job="image.tag"]').first().waitFor({ timeout: 15_000 });
      expect(await page.locator('.job[data-job="image.tag"] .badge').first().textContent()).toBe('succeeded');
    } else {
      await page.getByText('has no job feed').waitFor({ timeout: 15_000 });
    }
    await screenshot(page, `activity-${engine.kind}`);
  });

  it('switches the engine endpoint in Settings, says why a bad one fails, and comes back', async () => {
    await page.getByRole('button', { name: 'Engine and settings' }).click();
    const input = page.getByLabel('Engine endpoint');
    await input.fill('unix:///nonexistent/berth-test.sock');
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('.engine[data-connection="disconnected"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('.facts').textContent()).toContain('Cannot connect to the engine at unix:///nonexistent/berth-test.sock');
    // Nothing of the old engine is left on screen.
    await expect.poll(() => page.getByRole('button', { name: /^Images/ }).textContent()).toBe('Images');
    await screenshot(page, 'settings-disconnected');
    await input.fill(engine.endpoint);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.locator('.engine[data-connection="connected"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: /^Images/ }).click();
    // The image now has two tags (the test above added one), so look it up through the filter.
    await page.getByLabel('Filter images').fill(engine.image);
    await expect.poll(() => page.locator('.image-row').count(), { timeout: 15_000 }).toBe(1);
  });
});
