// The worker through the pages, against the local AWS sandbox that .ci/test starts: a topology
// applied with the CLI converges and the page shows every step done; in approve mode an edit
// waits for an admin, a viewer cannot approve, and the admin's approval runs while the page
// updates itself (no reload) until it is in sync again.
import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import * as fs from 'node:fs';
import { applySeed, health, hydrated, signIn, workerState } from './helpers';

const seed = process.env.PORTICO_E2E_SEED;

test.skip(!seed, 'needs the AWS sandbox and its demo seed (.ci/test provides both)');

/** The demo seed as gateway `demo`, with `edit` applied to its text, through the real CLI. */
const apply = (edit: (yaml: string) => string = (y) => y) => applySeed('demo', edit);

/** The local AWS sandbox's control API (.ci/sandbox.sh exports its address). */
async function sandbox(path: string, body: object) {
  const res = await fetch(`${process.env.SANDBOX_URL}/_sandbox${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
}

const state = workerState;

test('a topology applied with the CLI converges, and the page shows each step done', async ({ page }) => {
  test.setTimeout(60_000);
  apply();
  await signIn(page, 'editor', '/gateways/demo');
  await state(page, 'in_sync');
  const plan = page.locator('details.plan').first();
  await expect(plan).toHaveAttribute('data-status', 'done');
  await expect(plan.locator('tr[data-step]')).toHaveCount(37);
  await expect(plan.locator('tr[data-step][data-status="done"]')).toHaveCount(37);
  await expect(plan).toContainText('+ load balancer pt-demo-');
  await expect(plan).toContainText('+ stage dev: deployment (none) → latest routes, variables.backendPort (none) → 8080');
  await page.locator('details.resources summary').click();
  await expect(page.locator('details.resources')).toContainText('serves deployment');

  // Health in AWS's words, and the cost with its formula and price date.
  await health(page, 'Healthy', 'every part is healthy');
  await expect(page.locator('#cost-summary h2')).toHaveText('Monthly cost: $65.23');
  await page.goto('/gateways/demo/cost');
  await expect(page.locator('#cost h2')).toHaveText('Monthly cost: $65.23');
  await expect(page.locator('#cost')).toContainText('ap-northeast-2 prices of 2026-11-24');
  await expect(page.locator('#alternatives tr[data-alternative="One NLB per stage"]')).toContainText('+$32.85');
  await page.goto('/gateways/demo');

  // A stopped instance: its targets read `unused`, until it runs again.
  const instance = fs.readFileSync(seed!, 'utf8').match(/instances: \[(i-[0-9a-f]+)\]/)![1];
  await sandbox('/instances/stop', { region: 'ap-northeast-2', instance_id: instance });
  await health(page, 'Unhealthy', `target ${instance} on 8080 unused`);
  await sandbox('/instances/start', { region: 'ap-northeast-2', instance_id: instance });
  await health(page, 'Healthy');
  await expect(page.locator('#health svg.timeline rect').first()).toBeVisible();
});

test('a VPC link still PENDING shows as pending on the overview and the gateway page', async ({ page }) => {
  await sandbox('/config', { vpc_link_pending_seconds: 120 });
  apply((y) => y.replace(/^  name: demo$/m, '  name: slow'));
  await signIn(page, 'viewer', '/gateways/slow');
  await health(page, 'Pending', 'PENDING (AWS takes minutes to set a link up)');
  await page.goto('/');
  // The overview puts the gateway that needs a look first.
  await expect(page.locator('#gateways tbody tr').first()).toContainText('slow');
  await expect(page.locator('#gateways tbody tr').first()).toContainText('pending');
  await sandbox('/config', { vpc_link_pending_seconds: 2 });
});

test('in approve mode an edit waits for an admin; approving runs it live', async ({ page, browser }) => {
  apply((y) => y.replace('apply_mode: auto', 'apply_mode: approve'));
  await signIn(page, 'admin', '/gateways/demo');
  await hydrated(page);
  await state(page, 'in_sync');
  await page.evaluate(() => ((window as any).__stillHere = true));

  // The edit lands through the CLI; the open page notices by itself. It changes a route (the
  // key requirement of /dev), so every stage must be redeployed.
  apply((y) =>
    y.replace('apply_mode: auto', 'apply_mode: approve')
      .replace('backend_port: 8080', 'backend_port: 8081')
      .replace(/(path: \/dev\/\{proxy\+\}\n    methods: \[ANY\]\n    api_key_required:) true/, '$1 false'));
  await state(page, 'awaiting_approval', 15_000);
  const plan = page.locator('details.plan[data-status="awaiting_approval"]');
  await expect(plan).toContainText('~ stage dev: deployment');
  await expect(plan).toContainText('variables.backendPort 8080 → 8081');
  await expect(plan).toContainText('~ route /dev/{proxy+} ANY: api_key_required true → false');
  await expect(plan).toContainText('Monthly cost $65.23 → $65.23');

  // A viewer sees the plan but has nothing to approve with, and the stages read stale until
  // the redeploy.
  const viewer = await browser.newPage();
  await signIn(viewer, 'viewer', '/gateways/demo');
  await expect(viewer.locator('details.plan[data-status="awaiting_approval"]')).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Approve and apply' })).toHaveCount(0);
  await health(viewer, 'Degraded', 'stage dev serves an older deployment');

  await plan.getByRole('button', { name: 'Approve and apply' }).click();
  await state(page, 'in_sync', 15_000);
  await expect(page.locator('details.plan').first()).toHaveAttribute('data-status', 'done');
  // UpdateMethod, CreateDeployment, three UpdateStage, DeleteDeployment.
  await expect(page.locator('details.plan').first().locator('tr[data-step][data-status="done"]')).toHaveCount(6);
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  await health(viewer, 'Healthy');
  await viewer.close();
});

test('an admin issues a key, copies it from the one screen that shows it, and a reload does not show it again', async ({ browser }) => {
  test.setTimeout(60_000);
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  await signIn(page, 'admin', '/gateways/demo/keys');
  await hydrated(page);
  await page.locator('details.issue-key summary').click();
  const form = page.locator('#issue-key');
  await form.getByLabel('Owner').fill('Acme integration team');
  await form.getByLabel('Name').fill('partner acme');
  await expect(form.locator('.field-error').first()).toContainText("Key name may only hold");
  await form.getByRole('button', { name: 'Issue key' }).click();
  await expect(form.getByRole('alert')).toContainText("Key name may only hold letters, digits, '-', '_' and '.'");
  await form.getByLabel('Name').fill('partner-acme');
  await form.getByRole('button', { name: 'Issue key' }).click();
  await expect(page).toHaveURL(/\/gateways\/demo\/keys\/\d+$/);
  // The page refreshes itself until the worker has made the key in AWS.
  await expect(page.locator('#key-once')).toHaveAttribute('data-state', 'shown', { timeout: 20_000 });
  const value = (await page.locator('#key-value').textContent())!.trim();
  expect(value).toHaveLength(40);
  await expect(page.locator('ul.curls')).toContainText(`x-api-key: ${value}`);
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

  await page.reload();
  await hydrated(page);
  await expect(page.locator('#key-once')).toHaveAttribute('data-state', 'already-shown', { timeout: 20_000 });
  expect(await page.content()).not.toContain(value);
  await page.goto('/gateways/demo/keys');
  const row = page.locator('#keys tr', { hasText: 'partner-acme' });
  await expect(row).toContainText(`…${value.slice(-4)}`);
  await expect(row).toContainText('active');
  expect(await page.content()).not.toContain(value);
  await context.close();
});
