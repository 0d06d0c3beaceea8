// The topology diagram in a real browser, against the AWS sandbox: it turns healthy as the worker
// converges, it is reachable by keyboard with a label per box, it works without JavaScript,
// prints (a PDF kept as an artifact), downloads as an SVG file, and a viewer lands on it after
// signing in. The screenshot is kept as a test artifact.
import { test, expect } from './fixtures';
import * as fs from 'node:fs';
import { applySeed, deleteGateway, hydrated, signIn, signInWithoutJs } from './helpers';

test.skip(!process.env.PORTICO_E2E_SEED, 'needs the AWS sandbox and its demo seed (.ci/test provides both)');
test.afterAll(async ({ browser }) => deleteGateway(browser, 'picture'));

test('the diagram turns healthy, reads by keyboard, prints and downloads', async ({ page }, info) => {
  applySeed('picture');
  await page.setViewportSize({ width: 1600, height: 900 });
  await signIn(page, 'viewer', '/gateways/picture/diagram');
  await hydrated(page);
  const svg = page.locator('figure.diagram svg');
  await expect(svg).toBeVisible();
  // The page redraws itself every ten seconds; the load balancer comes up healthy.
  const nlb = svg.locator('g.node[id="pd-n-nlb"]');
  await expect(nlb).toHaveAttribute('aria-label', /Health: healthy/, { timeout: 45_000 });
  await expect(svg.locator('g.node[id="pd-n-tg_3a_8080"]')).toHaveAttribute('aria-label', /Health: healthy/, { timeout: 30_000 });
  await expect(nlb.locator('title')).toContainText('$');
  await page.screenshot({ path: info.outputPath('diagram.png'), fullPage: true });

  // In a 1,400-pixel window the whole diagram is in view, instances included; "Full size"
  // shows it at its drawn size with a scroll bar instead.
  await page.setViewportSize({ width: 1400, height: 900 });
  const last = svg.locator('g.node[aria-label^="Instance"]').first();
  await expect(last).toBeVisible();
  const box = (await last.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(1400);
  await page.getByText('Full size', { exact: true }).click();
  const scroller = page.locator('.diagram-scroll');
  await expect.poll(() => scroller.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
  await page.getByText('Full size', { exact: true }).click();
  await page.setViewportSize({ width: 1600, height: 900 });

  // Keyboard: every box is a focus stop with its sentence.
  await svg.locator('g.node').first().focus();
  await expect(page.locator(':focus')).toHaveAttribute('aria-label', /^Clients: Clients/);
  await page.keyboard.press('Tab');
  await expect(page.locator(':focus')).toHaveAttribute('aria-label', /^REST API: picture/);

  // Download: the same picture as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download SVG' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('picture-topology.svg');
  const file = fs.readFileSync(await download.path(), 'utf8');
  expect(file).toContain('<title id="pd-title">Topology of gateway picture</title>');

  // Print: no navigation or buttons, the diagram fills the page.
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('header.topbar')).toBeHidden();
  await expect(page.locator('.diagram-tools')).toBeHidden();
  await expect(svg).toBeVisible();
  await page.pdf({ path: info.outputPath('diagram.pdf'), landscape: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
});

test('the diagram works without JavaScript, and a viewer lands on a diagram', async ({ browser, page }) => {
  applySeed('picture');
  const plain = await signInWithoutJs(browser, 'editor', '/gateways/picture/diagram');
  await expect(plain.locator('figure.diagram svg g.node[id="pd-n-nlb"]')).toBeVisible();
  await expect(plain.locator('figure.diagram svg g.node[id^="pd-n-stage"]')).toHaveCount(3);
  await expect(plain.getByText('Share link (read-only, for anyone signed in)')).toBeVisible();
  await plain.context().close();

  await signIn(page, 'viewer');
  await expect(page).toHaveURL(/\/gateways\/[^/]+\/diagram$/);
  await expect(page.locator('figure.diagram svg')).toBeVisible();
});
