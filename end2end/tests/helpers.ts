// Shared steps: who the test users are, signing in, and waiting for hydration.
import { Browser, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type RoleName = 'admin' | 'editor' | 'viewer';

export function password(role: RoleName): string {
  const creds = JSON.parse(fs.readFileSync(path.join(path.dirname(db), 'credentials.json'), 'utf8'));
  return creds[role];
}

/** The page only reacts to clicks once the wasm has hydrated it; the app marks that moment. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export async function signIn(page: Page, role: RoleName, next = '/') {
  await page.goto(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  await hydrated(page);
  await page.getByLabel('User name').fill(`e2e-${role}`);
  await page.getByLabel('Password').fill(password(role));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: new RegExp(`e2e-${role}`) })).toBeVisible();
}

/** A new browser context without JavaScript, signed in as `role` through the plain form and
 *  landed on `next`. Close the page's context when done. */
export async function signInWithoutJs(browser: Browser, role: RoleName, next: string): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('User name').fill(`e2e-${role}`);
  await page.getByLabel('Password').fill(password(role));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[/]/g, '\\/')}$`));
  return page;
}

const root = path.resolve(__dirname, '..', '..');
export const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
export const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');

/** The sandbox's demo seed (.ci/test exports it) as gateway `name`, with `edit` applied to its
 * text, applied through the real CLI (`portico topology apply`). */
/** The sandbox's demo-account ids in the demo seed (.ci/test writes it), or the example ids of
 * examples/seed-topology.yaml when there is no sandbox. */
export function demoIds() {
  const seed = process.env.PORTICO_E2E_SEED;
  const text = fs.readFileSync(seed ?? path.join(root, 'examples', 'seed-topology.yaml'), 'utf8');
  const vpc = text.match(/vpc_id: (vpc-[0-9a-f]+)/)![1];
  const subnets = [...text.matchAll(/- (subnet-[0-9a-f]+)/g)].map((m) => m[1]);
  const instance = text.match(/instances: \[(i-[0-9a-f]+)\]/)![1];
  return { vpc, subnets, instance, file: seed ?? path.join(root, 'examples', 'seed-topology.yaml') };
}

export function applySeed(name: string, edit: (yaml: string) => string = (y) => y) {
  const seed = process.env.PORTICO_E2E_SEED!;
  const text = edit(fs.readFileSync(seed, 'utf8').replace(/^  name: seed$/m, `  name: ${name}`));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portico-e2e-')), `${name}.yaml`);
  fs.writeFileSync(file, text);
  execFileSync(bin, ['--db', db, 'topology', 'apply', '-f', file], { cwd: root });
}

/** Opens one of the gateway's tabs (Status, Topology, Cost, API keys, History, File) by its link. */
export async function tab(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Gateway' }).getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('navigation', { name: 'Gateway' }).getByRole('link', { name, exact: true }))
    .toHaveAttribute('aria-current', 'page');
  await hydrated(page);
}

async function openForm(page: Page, section: string, button: string) {
  await page.getByRole('link', { name: button }).click();
  await expect(page).toHaveURL(new RegExp(`edit=${section}`));
  await hydrated(page);
}

/** Builds the seed topology (examples/seed-topology.yaml) on the open gateway's topology tab
 * through its forms, meeting each form's inline checks on the way, with `instance` behind every port. */
export async function buildSeedInForms(page: Page, instance: string) {
  for (const port of ['8080', '8081', '8082']) {
    await openForm(page, 'port', 'Add port');
    const form = page.locator('#port-form');
    await form.getByLabel('Backend port').fill('70000');
    await expect(form.getByText('Backend port 70000 is out of range: use 1 to 65535.')).toBeVisible();
    await form.getByLabel('Backend port').fill(port);
    await expect(form.locator('.field-error').first()).toHaveText('');
    await form.getByLabel('EC2 instance ids').fill(instance);
    await form.getByRole('button', { name: 'Save port' }).click();
    await expect(page.locator(`tr[data-port="${port}"]`)).toBeVisible();
    await expect(page.locator('#port-form')).toHaveCount(0);
  }
  const stages: [string, string, string, string][] = [
    ['dev', '8080', '50', '100'], ['sprint', '8081', '50', '100'], ['release', '8082', '500', '1000'],
  ];
  for (const [name, port, rate, burst] of stages) {
    await openForm(page, 'stage', 'Add stage');
    const form = page.locator('#stage-form');
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Backend port').selectOption(port);
    await form.getByLabel(/Throttle rate/).fill(rate);
    await form.getByLabel('Throttle burst').fill(burst);
    await form.getByRole('button', { name: 'Save stage' }).click();
    await expect(page.locator(`tr[data-stage="${name}"]`)).toContainText(port);
  }
  for (const [name, port] of [['dev', '8080'], ['sprint', '8081'], ['release', '8082']]) {
    await openForm(page, 'route', 'Add route');
    const form = page.locator('#route-form');
    await form.getByLabel('Resource path').fill('/a/{proxy+}/b');
    await expect(form.getByText('a greedy segment {proxy+} may only be the last one')).toBeVisible();
    await form.getByLabel('Resource path').fill(`/${name}/{proxy+}`);
    await form.getByLabel('Backend port').selectOption(port);
    await form.getByRole('button', { name: 'Save route' }).click();
    await expect(page.locator(`tr[data-route="/${name}/{proxy+}"]`)).toContainText(port);
  }
  await openForm(page, 'usage-plan', 'Add usage plan');
  const plan = page.locator('#usage-plan-form');
  await plan.getByLabel('Name', { exact: true }).fill('standard');
  await plan.getByLabel(/Throttle rate/).fill('100');
  await plan.getByLabel('Throttle burst').fill('200');
  await plan.getByLabel(/Quota limit/).fill('100000');
  await plan.getByLabel('Quota period').selectOption('MONTH');
  await plan.getByLabel('Quota offset').fill('0');
  await plan.getByRole('button', { name: 'Save usage plan' }).click();
  await expect(page.locator('tr[data-usage-plan="standard"]')).toContainText('dev, release, sprint');

  await tab(page, 'Cost');
  const usage = page.locator('#usage');
  await usage.getByLabel('Requests per month').fill('10000000');
  await usage.getByLabel('Average response (KB)').fill('20');
  await usage.getByLabel('New connections per second').fill('5');
  await usage.getByLabel('Active connections').fill('100');
  await usage.getByRole('button', { name: 'Save assumptions' }).click();
  await expect(page).toHaveURL(/\/cost$/);
  await tab(page, 'History');
  await expect(page.locator('#history tbody tr').first()).toContainText('usage assumptions');

}

/** Reloads until the health line reads `level` (the worker reads health every 2 s in tests). */
export async function health(page: Page, level: string, text?: string) {
  await expect(async () => {
    await page.reload();
    await expect(page.locator('#health .status-line')).toHaveAttribute('data-health', level, { timeout: 500 });
    if (text) await expect(page.locator('#health')).toContainText(text, { timeout: 500 });
  }).toPass({ timeout: 30_000 });
}

/** Waits (without reloading: the section refreshes itself) for the worker's state. */
export async function workerState(page: Page, value: string, timeout = 30_000) {
  await expect(page.locator('#runs .status-line')).toHaveAttribute('data-state', value, { timeout });
}

/** Deletes (or releases) a gateway as an admin (the worker then removes what it owns in AWS, or
 * only Portico's tags), so the specs
 * after this one share the sandbox's API Gateway quota with no more gateways than before. */
export async function deleteGateway(browser: Browser, name: string, mode: 'delete' | 'release' = 'delete') {
  const page = await browser.newPage();
  await signIn(page, 'admin');
  const res = await page.request.post('/api/delete_gateway', {
    form: { name, confirm: name, mode },
    headers: { Origin: new URL(page.url()).origin, Accept: 'application/json' },
  });
  expect(res.ok(), await res.text()).toBe(true);
  await page.close();
}
