// The journey a newcomer takes, against the AWS sandbox: an admin builds the seed topology from
// nothing in the forms, approves the plan, watches it run live, sees health turn green, issues
// an API key, and a viewer opens the diagram. Then the same topology through
// `portico topology apply` converges to the same AWS state.
import { test, expect } from './fixtures';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { applySeed, bin, buildSeedInForms, db, deleteGateway, demoIds, health, hydrated, signIn, tab, workerState } from './helpers';

const seed = process.env.PORTICO_E2E_SEED;
test.skip(!seed, 'needs the AWS sandbox and its demo seed (.ci/test provides both)');
test.describe.configure({ mode: 'serial' });
test.afterAll(async ({ browser }) => {
  await deleteGateway(browser, 'journey');
  await deleteGateway(browser, 'journey-cli');
});


/** What AWS holds for a gateway, per `portico status --json`, with the gateway's own names and
 * AWS's ids taken out, so two gateways built the same way compare equal. */
function awsState(gateway: string) {
  const report = JSON.parse(execFileSync(bin, ['--db', db, 'status', gateway, '--json']).toString());
  const scrub = (s: string) => s.replaceAll(gateway, 'G').replace(/[a-z0-9]{10}\b/g, 'ID')
    .replace(/pt-G-[0-9a-f]{4}/g, 'pt-G-E').replace(/-[0-9a-f]{16}\./g, '-DNS.');
  return {
    in_sync: report.in_sync,
    to_create: report.to_create,
    rows: report.rows
      .map((r: any) => `${r.kind} | ${scrub(r.name)} | ${scrub(r.state)} | ${r.pending.length}`)
      .sort(),
  };
}

test('an admin builds the seed in the forms, approves, watches it run, issues a key; a viewer opens the diagram', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const { vpc, subnets, instance } = demoIds();
  // A page that fails to hydrate looks fine and never updates: any browser error fails the test.
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && /hydrat|panicked/.test(m.text())) errors.push(m.text()); });
  await signIn(page, 'admin');
  const create = page.locator('#create-gateway');
  await create.getByLabel('Name').fill('journey');
  await create.getByLabel('Region').fill('ap-northeast-2');
  await create.getByLabel('VPC id').fill(vpc);
  await create.getByLabel(/NLB subnet ids/).fill(subnets.join(', '));
  await create.getByRole('button', { name: 'Create gateway' }).click();
  await expect(page).toHaveURL(/\/gateways\/journey$/);
  await hydrated(page);

  // Approve mode: nothing reaches AWS until an admin says so.
  await tab(page, 'Topology');
  await page.getByRole('link', { name: 'Edit settings' }).click();
  await hydrated(page);
  await page.locator('#settings').getByLabel('Apply mode').selectOption('approve');
  await page.locator('#settings').getByRole('button', { name: 'Save settings' }).click();
  await expect(page.locator('#settings')).toContainText('approve');

  await buildSeedInForms(page, instance);
  const generation = (await page.locator('.page-head p.muted').textContent())!.match(/generation (\d+)/)![1];
  await tab(page, 'Status');
  const plan = page.locator('details.plan[data-status="awaiting_approval"]');
  await expect(plan.locator('summary')).toContainText(`generation ${generation} `, { timeout: 30_000 });
  const steps = await plan.locator('tr[data-step]').count();
  expect(steps).toBeGreaterThan(30);
  await expect(plan).toContainText('+ load balancer pt-journey-');
  await expect(plan).toContainText(/Monthly cost \$[0-9.]+ → \$65.23/);
  await health(page, 'Pending');

  // Approve, then watch it run on the same page (no reload).
  await hydrated(page);
  await page.evaluate(() => ((window as any).__stillHere = true));
  await plan.getByRole('button', { name: 'Approve and apply' }).click();
  const ran = page.locator('details.plan').first();
  await expect(ran.locator('tr[data-step][data-status="done"]')).not.toHaveCount(0, { timeout: 15_000 });
  await workerState(page, 'in_sync', 60_000);
  await expect(ran).toHaveAttribute('data-status', 'done');
  await expect(ran.locator('tr[data-step][data-status="done"]')).toHaveCount(steps);
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  await health(page, 'Healthy');

  // An API key for a partner, shown once.
  await tab(page, 'API keys');
  await page.locator('details.issue-key summary').click();
  const form = page.locator('#issue-key');
  await form.getByLabel('Owner').fill('Partner team');
  await form.getByLabel('Name').fill('partner');
  await form.getByRole('button', { name: 'Issue key' }).click();
  await expect(page).toHaveURL(/\/gateways\/journey\/keys\/\d+$/);
  await expect(page.locator('#key-once')).toHaveAttribute('data-state', 'shown', { timeout: 20_000 });

  // A reviewer opens the diagram: everything healthy, the key counted, no plan waiting.
  const viewer = await browser.newPage();
  await signIn(viewer, 'viewer', '/gateways/journey/diagram');
  const svg = viewer.locator('figure.diagram svg');
  await expect(svg.locator('g.node[id="pd-n-nlb"]')).toHaveAttribute('aria-label', /Health: healthy/);
  await expect(svg.locator('g.node[id="pd-n-clients"]')).toHaveAttribute('aria-label', /1 API key in 1 usage plan/);
  await expect(svg.locator('g.node[id^="pd-n-stage"][aria-label*="Health: healthy"]')).toHaveCount(3);
  await expect(viewer.locator('.overlay-note')).toContainText('No plan is waiting or running');
  await viewer.close();
  expect(errors).toEqual([]);
});

test('the same topology through `portico topology apply` converges to the same AWS state', async ({ page }) => {
  test.setTimeout(90_000);
  applySeed('journey-cli', (y) => y.replace('apply_mode: auto', 'apply_mode: approve'));
  // The CLI's gateway runs in approve mode too; an admin approves it.
  await signIn(page, 'admin', '/gateways/journey-cli');
  await hydrated(page);
  const plan = page.locator('details.plan[data-status="awaiting_approval"]');
  await expect(plan.locator('summary')).toContainText('edit', { timeout: 30_000 });
  await plan.getByRole('button', { name: 'Approve and apply' }).click();
  await workerState(page, 'in_sync', 60_000);
  await health(page, 'Healthy');

  // Both topologies are the seed, and AWS holds the same for each.
  const exported = (g: string) => execFileSync(bin, ['--db', db, 'topology', 'export', g]).toString()
    .replace(/^# .*\n/, '').replaceAll(g, 'G');
  expect(exported('journey-cli')).toBe(exported('journey'));
  const forms = awsState('journey');
  const cli = awsState('journey-cli');
  expect(cli).toEqual(forms);
  expect(forms.in_sync).toBe(true);
  expect(forms.rows.length).toBeGreaterThanOrEqual(12);
});
