// The seed topology built through the forms: an admin creates the gateway, an editor adds the
// ports, stages, routes and usage plan (meeting the inline checks on the way), and the result
// equals examples/seed-topology.yaml. A viewer can read it but not change it.
import { test, expect } from './fixtures';
import type { Locator, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { buildSeedInForms, demoIds, hydrated, password, signIn, signInWithoutJs } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');

test.describe.configure({ mode: 'serial' });

test('an admin creates the gateway', async ({ page }) => {
  await signIn(page, 'admin');
  await hydrated(page);
  const form = page.locator('#create-gateway');
  await form.getByLabel('Name').fill('Seed');
  await expect(form.locator('.field-error').first()).toContainText('lowercase letter');
  await form.getByLabel('Name').fill('seed');
  await form.getByLabel('Region').fill('ap-northeast-2');
  const { vpc, subnets } = demoIds();
  if (process.env.PORTICO_E2E_SEED) {
    // Checked against the account: an id it does not have is refused, naming what it has.
    await form.getByLabel('VPC id').fill('vpc-0fffffffffffffff0');
    await form.getByLabel(/NLB subnet ids/).fill(subnets.join(', '));
    await form.getByRole('button', { name: 'Create gateway' }).click();
    const refusal = form.locator('.error');
    await expect(refusal).toContainText('VPC vpc-0fffffffffffffff0 does not exist in ap-northeast-2. It has: ');
    await expect(refusal).toContainText(`${vpc} (portico-demo)`);
    await expect(refusal).toContainText('Nothing was saved.');
    // The region's subnets are offered to pick from once the VPC is known.
    await form.getByLabel(/NLB subnet ids/).fill('');
    await form.getByLabel('VPC id').fill(vpc);
    await form.locator(`button[data-pick="${subnets[0]}"]`).click();
    await form.locator(`button[data-pick="${subnets[1]}"]`).click();
    await expect(form.getByLabel(/NLB subnet ids/)).toHaveValue(`${subnets[0]}, ${subnets[1]}`);
  } else {
    await form.getByLabel('VPC id').fill(vpc);
    await form.getByLabel(/NLB subnet ids/).fill(subnets.join(', '));
  }
  await form.getByRole('button', { name: 'Create gateway' }).click();
  await expect(page).toHaveURL(/\/gateways\/seed$/);
  await expect(page.getByRole('heading', { name: 'seed', level: 1 })).toBeVisible();
});

test('an editor builds the seed topology through the forms', async ({ page }) => {
  await signIn(page, 'editor', '/gateways/seed/topology');
  await hydrated(page);
  await buildSeedInForms(page, demoIds().instance);

  // What the forms built is exactly the seed file (with the sandbox's ids).
  const seed = demoIds().file;
  const out = execFileSync(bin, ['--db', db, 'topology', 'apply', '-f', seed, '--dry-run']).toString();
  expect(out.trim()).toBe('seed: nothing to change.');
});

test('deleting a port in use is refused, naming its users', async ({ page }) => {
  await signIn(page, 'editor', '/gateways/seed/topology');
  await page.locator('tr[data-port="8081"]').getByRole('link', { name: 'Delete' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('used by stage sprint, route /sprint/{proxy+}');
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete port' }).click();
  await expect(page.locator('#ports').getByRole('alert')).toContainText('Port 8081 is used by stage sprint');
  await expect(page.locator('tr[data-port="8081"]')).toBeVisible();
});

test("an editor sets a stage's access log; a destination in another region is refused", async ({ page }) => {
  await signIn(page, 'editor', '/gateways/seed/topology');
  await hydrated(page);
  const row = page.locator('tr[data-stage="dev"]');
  const form = page.locator('#stage-form');
  const destination = form.getByLabel(/Access log destination/);
  await expect(row).toContainText('as set in AWS');
  await row.getByRole('link', { name: 'Edit' }).click();
  await form.locator('select[name="access_log"]').selectOption('on');
  // The `:*` CloudWatch's console shows is dropped.
  await destination.fill('arn:aws:logs:ap-northeast-2:123456789012:log-group:shop/access:*');
  await form.getByRole('button', { name: 'Save stage' }).click();
  await expect(row).toContainText('shop/access');
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(destination).toHaveValue('arn:aws:logs:ap-northeast-2:123456789012:log-group:shop/access');
  await destination.fill('arn:aws:logs:us-east-1:123456789012:log-group:shop');
  await form.getByRole('button', { name: 'Save stage' }).click();
  await expect(form.getByRole('alert')).toContainText("is not in the gateway's region: use one in ap-northeast-2");
  await expect(row).toContainText('shop/access');
  // Back to the seed's: left as AWS has it.
  await page.goto('/gateways/seed/topology?edit=stage:dev#stages');
  await hydrated(page);
  await form.locator('select[name="access_log"]').selectOption('keep');
  await form.getByRole('button', { name: 'Save stage' }).click();
  await expect(row).toContainText('as set in AWS');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('an editor adds a port: a refusal shows on the form, then the save lands', async ({ page }) => {
    await page.goto('/login?next=%2Fgateways%2Fseed%2Ftopology');
    await page.getByLabel('User name').fill('e2e-editor');
    await page.getByLabel('Password').fill(password('editor'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/gateways\/seed\/topology$/);
    await page.getByRole('link', { name: 'Add port' }).click();
    const form = page.locator('#port-form');
    await form.getByLabel('Backend port').fill('70000');
    await form.getByRole('button', { name: 'Save port' }).click();
    await expect(page.locator('#port-form').getByRole('alert')).toContainText('Backend port 70000 is out of range');
    await expect(page.locator('tr[data-port="70000"]')).toHaveCount(0);
    await page.locator('#port-form').getByLabel('Backend port').fill('9090');
    await page.locator('#port-form').getByRole('button', { name: 'Save port' }).click();
    await expect(page).toHaveURL(/\/gateways\/seed\/topology$/);
    await expect(page.locator('tr[data-port="9090"]')).toBeVisible();
    await page.locator('tr[data-port="9090"]').getByRole('link', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete port' }).click();
    await expect(page.locator('tr[data-port="9090"]')).toHaveCount(0);
  });
});

test('a viewer reads the topology but cannot edit it', async ({ page, baseURL }) => {
  await signIn(page, 'viewer', '/gateways/seed/topology');
  await expect(page.locator('tr[data-port="8080"]')).toBeVisible();
  for (const name of ['Add port', 'Add stage', 'Add route', 'Add usage plan', 'Edit', 'Delete', 'Restore']) {
    await expect(page.getByRole('link', { name, exact: true })).toHaveCount(0);
  }
  await expect(page.getByRole('button', { name: /Save|Upload|Restore/ })).toHaveCount(0);
  const forged = await page.request.post('/api/save_port', {
    form: { gateway: 'seed', from: '1', port: '9999', health_protocol: 'TCP', interval_seconds: '30',
      healthy_threshold: '3', unhealthy_threshold: '3', deregistration_delay: '30', instances: '' },
    headers: { Origin: baseURL!, Accept: 'application/json' },
  });
  expect(forged.status()).toBe(403);
  const download = await page.request.get('/gateways/seed/topology.yaml');
  expect(await download.text()).toContain('name: seed');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test("a gateway's tabs are links, each on its own address, opening on what matters", async ({ page }) => {
    await page.goto('/login?next=%2Fgateways%2Fseed');
    await page.getByLabel('User name').fill('e2e-viewer');
    await page.getByLabel('Password').fill(password('viewer'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/gateways\/seed$/);
    const tabs = page.getByRole('navigation', { name: 'Gateway' });
    await expect(tabs.getByRole('link', { name: 'Status' })).toHaveAttribute('aria-current', 'page');
    // The status tab: health, the worker's plans and the month's cost, not the forms.
    await expect(page.locator('#health')).toBeVisible();
    await expect(page.locator('#runs')).toBeVisible();
    await expect(page.locator('#cost-summary h2')).toContainText('Monthly cost: $');
    await expect(page.locator('#ports')).toHaveCount(0);
    for (const [name, path, section] of [
      ['Topology', '/topology', '#ports'], ['Cost', '/cost', '#alternatives'], ['API keys', '/keys', '#keys'],
      ['History', '/history', '#history'], ['File', '/file', '#file'],
    ]) {
      await tabs.getByRole('link', { name, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/gateways/seed${path}$`));
      await expect(tabs.getByRole('link', { name, exact: true })).toHaveAttribute('aria-current', 'page');
      await expect(page.locator(section)).toBeVisible();
      await expect(page.locator('#health')).toHaveCount(0);
    }
  });
});

/** The chart an image of the health section shows: its SVG, fetched with the page's cookies. */
async function chartOf(page: Page, img: Locator): Promise<string> {
  const src = await img.getAttribute('src');
  expect(src).toMatch(/^\/gateways\/seed\/charts\/[a-z0-9-]+\?traffic=[0-9a-z]+&v=[0-9a-f]{16}$/);
  const res = await page.request.get(new URL(src!, page.url()).href);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('image/svg+xml; charset=utf-8');
  return res.text();
}

/** How many points the line of `series` has in a chart's SVG (0 when it has none). */
function pointsOf(svg: string, series: string): number {
  const line = svg.match(new RegExp(`data-series="${series}" points="([^"]*)"`));
  return line ? line[1].trim().split(' ').length : 0;
}

test("the health section charts each stage's traffic, without JavaScript too", async ({ browser, page }) => {
  test.setTimeout(90_000); // waits for the worker's reads: the day's, then the month's
  // The sandbox holds 30 days of the seed's traffic (.ci/sandbox.sh's demo_seed), and of its
  // load balancer once the worker made it; the worker reads it with the gateway's health.
  // Each chart is an image: an SVG document of its own, drawn on the server.
  const plain = await signInWithoutJs(browser, 'viewer', '/gateways/seed');
  const dev = plain.locator('#health figure.chart[data-subject="stage dev"]');
  const requests = dev.locator('img').first();
  let svg = '';
  await expect(async () => {
    await plain.reload();
    svg = await chartOf(plain, requests);
    expect(pointsOf(svg, 'requests')).toBeGreaterThan(0);
  }).toPass({ timeout: 30_000 });
  // A point per 5 minutes of the day.
  expect(pointsOf(svg, 'requests')).toBeGreaterThan(250);
  const day = 'Stage dev: requests and errors per 5 minutes, last 24 hours';
  await expect(dev.locator('figcaption').first()).toHaveText(day);
  await expect(requests).toHaveAttribute('alt', day);
  expect(svg).toContain(`<title>${day}</title>`);
  const latency = await chartOf(plain, dev.locator('img').nth(1));
  expect(latency).toContain('<title>Stage dev: latency (dashed: backend time), last 24 hours</title>');
  expect(pointsOf(latency, 'p99')).toBeGreaterThan(0);

  // The 30 days, in hourly points: the stage's and the load balancer's (read in calls of their
  // own after the five-minute ones, so they may come a health read later).
  await plain.getByRole('link', { name: 'last 30 days' }).click();
  await expect(plain).toHaveURL(/\?traffic=30d/);
  await expect(plain.getByRole('heading', { name: 'Traffic, last 30 days' })).toBeVisible();
  await expect(dev.locator('figcaption').first()).toHaveText('Stage dev: requests and errors per hour, last 30 days');
  await expect(async () => {
    await plain.reload();
    expect(pointsOf(await chartOf(plain, requests), 'requests')).toBeGreaterThan(29 * 24);
  }).toPass({ timeout: 30_000 });
  const processed = plain.locator('#health figure.chart[data-subject="load balancer"] img[alt^="Load balancer: MB processed"]');
  await expect(async () => {
    await plain.reload();
    expect(pointsOf(await chartOf(plain, processed), 'processed')).toBeGreaterThan(29 * 24);
  }).toPass({ timeout: 30_000 });

  // With JavaScript: the browser shows the charts, and another window's are other images.
  await signIn(page, 'viewer', '/gateways/seed');
  await page.goto('/gateways/seed');
  await hydrated(page);
  const live = page.locator('#health figure.chart[data-subject="stage dev"] img').first();
  const shown = pointsOf(await chartOf(page, live), 'requests');
  expect(shown).toBeGreaterThan(250);
  expect(shown).toBeLessThan(29 * 24);
  await live.scrollIntoViewIfNeeded();
  await expect.poll(() => live.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBeGreaterThan(0);
  await page.getByRole('link', { name: 'last 30 days' }).click();
  await expect(page.getByRole('heading', { name: 'Traffic, last 30 days' })).toBeVisible();
  await expect(live).toHaveAttribute('src', /traffic=30d/);
  expect(pointsOf(await chartOf(page, live), 'requests')).toBeGreaterThan(29 * 24);

  // The overview: the day's requests per hour beside each gateway.
  await plain.goto('/');
  const spark = plain.locator('tr', { has: plain.getByRole('link', { name: 'seed', exact: true }) }).locator('td.spark svg');
  await expect(spark.locator('title')).toHaveText(/^Requests per hour to seed, last 24 hours: [0-9.k]+ in all$/);
  expect((await spark.locator('polyline').getAttribute('points'))!.trim().split(' ').length).toBeGreaterThan(20);
  await plain.context().close();
});

test('the cost tab shows the last 30 days as measured, and an editor makes them the assumptions without JavaScript', async ({ browser }) => {
  const plain = await signInWithoutJs(browser, 'editor', '/gateways/seed/cost');
  const measured = plain.locator('#measured-cost');
  await expect(async () => {
    await plain.reload();
    await expect(measured.locator('h2')).toHaveText(/^Measured over [0-9a-z ]+: \$[0-9,]+\.[0-9]{2}$/, { timeout: 500 });
  }).toPass({ timeout: 30_000 });
  for (const line of ['NLB hours', 'NLB capacity units (NLCU)', 'REST API requests', 'data transfer out']) {
    await expect(measured.locator(`tr[data-measured="${line}"] td.mono`)).toHaveText(/^\$[0-9,]+\.[0-9]{2}$/);
  }
  // The load balancer's flows were counted: the NLCU line is not nothing.
  await expect(measured.locator('tr[data-measured="NLB capacity units (NLCU)"] td.mono')).not.toHaveText('$0.00');
  const requests = await measured.locator('input[name="requests_per_month"]').getAttribute('value');
  expect(Number(requests)).toBeGreaterThan(0);
  await measured.getByRole('button', { name: 'Use measured usage as the assumptions' }).click();
  await expect(plain).toHaveURL(/\/gateways\/seed\/cost$/);
  await expect(plain.getByLabel('Requests per month')).toHaveValue(requests!);
  // An edit like any other: in the gateway's history.
  await plain.goto('/gateways/seed/history');
  const newest = plain.locator('#history tr[data-generation]').first();
  await expect(newest).toContainText('usage assumptions');
  await expect(newest).toContainText('e2e-editor');
  await plain.context().close();
});

test('the gateway page screenshot', async ({ page }, info) => {
  await page.setViewportSize({ width: 1280, height: 1400 });
  await signIn(page, 'viewer', '/gateways/seed');
  await page.screenshot({ path: info.outputPath('gateway.png'), fullPage: false });
});

test('an admin deletes the gateway after typing its name', async ({ page }) => {
  // Its REST API's deletion waits for AWS's DeleteRestApi quota (1 per 30 s), which the
  // gateways earlier specs deleted may have just used: up to a minute and a half.
  test.setTimeout(120_000);
  await signIn(page, 'admin', '/gateways/seed/topology');
  await page.getByRole('link', { name: 'Delete gateway' }).click();
  await hydrated(page);
  const dialog = page.getByRole('alertdialog');
  await dialog.getByLabel('Type its name to confirm').fill('sed');
  await dialog.getByRole('button', { name: 'Delete gateway' }).click();
  await expect(dialog.getByRole('alert')).toHaveText("Type the gateway's name, seed, to confirm.");
  await dialog.getByLabel('Type its name to confirm').fill('seed');
  await dialog.getByRole('button', { name: 'Delete gateway' }).click();
  await expect(page).toHaveURL(/\/$/);
  // The worker removes what it owns in AWS, then the gateway; until then it shows as deleting.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible({ timeout: 1_000 });
    await expect(page.getByRole('link', { name: 'seed', exact: true })).toHaveCount(0, { timeout: 1_000 });
  }).toPass({ timeout: 100_000 });
});
