// The seed topology built through the forms: an admin creates the gateway, an editor adds the
// ports, stages, routes and usage plan (meeting the inline checks on the way), and the result
// equals examples/seed-topology.yaml. A viewer can read it but not change it.
import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { hydrated, password, signIn } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');

test.describe.configure({ mode: 'serial' });

async function open(page: Page, section: string, button: string) {
  await page.getByRole('link', { name: button }).click();
  await expect(page).toHaveURL(new RegExp(`edit=${section}`));
  await hydrated(page);
}

test('an admin creates the gateway', async ({ page }) => {
  await signIn(page, 'admin');
  const form = page.locator('#create-gateway');
  await form.getByLabel('Name').fill('Seed');
  await expect(form.locator('.field-error').first()).toContainText('lowercase letter');
  await form.getByLabel('Name').fill('seed');
  await form.getByLabel('Region').fill('ap-northeast-2');
  await form.getByLabel('VPC id').fill('vpc-0a1b2c3d4e5f60718');
  await form.getByLabel('NLB subnet ids').fill('subnet-0a1b2c3d4e5f60719, subnet-0a1b2c3d4e5f6071a');
  await form.getByRole('button', { name: 'Create gateway' }).click();
  await expect(page).toHaveURL(/\/gateways\/seed$/);
  await expect(page.getByRole('heading', { name: 'seed', level: 1 })).toBeVisible();
});

test('an editor builds the seed topology through the forms', async ({ page }) => {
  await signIn(page, 'editor', '/gateways/seed');
  await hydrated(page);
  for (const port of ['8080', '8081', '8082']) {
    await open(page, 'port', 'Add port');
    const form = page.locator('#port-form');
    await form.getByLabel('Backend port').fill('70000');
    await expect(form.getByText('Backend port 70000 is out of range: use 1 to 65535.')).toBeVisible();
    await form.getByLabel('Backend port').fill(port);
    await expect(form.locator('.field-error').first()).toHaveText('');
    await form.getByLabel('EC2 instance ids').fill('i-0a1b2c3d4e5f6071b');
    await form.getByRole('button', { name: 'Save port' }).click();
    await expect(page.locator(`tr[data-port="${port}"]`)).toBeVisible();
    await expect(page.locator('#port-form')).toHaveCount(0);
  }
  const stages: [string, string, string, string][] = [
    ['dev', '8080', '50', '100'], ['sprint', '8081', '50', '100'], ['release', '8082', '500', '1000'],
  ];
  for (const [name, port, rate, burst] of stages) {
    await open(page, 'stage', 'Add stage');
    const form = page.locator('#stage-form');
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Backend port').selectOption(port);
    await form.getByLabel(/Throttle rate/).fill(rate);
    await form.getByLabel('Throttle burst').fill(burst);
    await form.getByRole('button', { name: 'Save stage' }).click();
    await expect(page.locator(`tr[data-stage="${name}"]`)).toContainText(port);
  }
  for (const [name, port] of [['dev', '8080'], ['sprint', '8081'], ['release', '8082']]) {
    await open(page, 'route', 'Add route');
    const form = page.locator('#route-form');
    await form.getByLabel('Resource path').fill('/a/{proxy+}/b');
    await expect(form.getByText('a greedy segment {proxy+} may only be the last one')).toBeVisible();
    await form.getByLabel('Resource path').fill(`/${name}/{proxy+}`);
    await form.getByLabel('Backend port').selectOption(port);
    await form.getByRole('button', { name: 'Save route' }).click();
    await expect(page.locator(`tr[data-route="/${name}/{proxy+}"]`)).toContainText(port);
  }
  await open(page, 'plan', 'Add usage plan');
  const plan = page.locator('#plan-form');
  await plan.getByLabel('Name', { exact: true }).fill('standard');
  await plan.getByLabel(/Throttle rate/).fill('100');
  await plan.getByLabel('Throttle burst').fill('200');
  await plan.getByLabel(/Quota limit/).fill('100000');
  await plan.getByLabel('Quota period').selectOption('MONTH');
  await plan.getByLabel('Quota offset').fill('0');
  await plan.getByRole('button', { name: 'Save usage plan' }).click();
  await expect(page.locator('tr[data-plan="standard"]')).toContainText('dev, release, sprint');

  const usage = page.locator('#usage');
  await usage.getByLabel('Requests per month').fill('10000000');
  await usage.getByLabel('Average response (KB)').fill('20');
  await usage.getByLabel('New connections per second').fill('5');
  await usage.getByLabel('Active connections').fill('100');
  await usage.getByRole('button', { name: 'Save assumptions' }).click();
  await expect(page.locator('#history tbody tr').first()).toContainText('usage assumptions');

  // What the forms built is exactly the seed file.
  const seed = path.join(root, 'examples', 'seed-topology.yaml');
  const out = execFileSync(bin, ['--db', db, 'topology', 'apply', '-f', seed, '--dry-run']).toString();
  expect(out.trim()).toBe('seed: nothing to change.');
});

test('deleting a port in use is refused, naming its users', async ({ page }) => {
  await signIn(page, 'editor', '/gateways/seed');
  await page.locator('tr[data-port="8081"]').getByRole('link', { name: 'Delete' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('used by stage sprint, route /sprint/{proxy+}');
  await hydrated(page);
  await page.getByRole('button', { name: 'Delete port' }).click();
  await expect(page.locator('#ports').getByRole('alert')).toContainText('Port 8081 is used by stage sprint');
  await expect(page.locator('tr[data-port="8081"]')).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('an editor adds a port: a refusal shows on the form, then the save lands', async ({ page }) => {
    await page.goto('/login?next=%2Fgateways%2Fseed');
    await page.getByLabel('User name').fill('e2e-editor');
    await page.getByLabel('Password').fill(password('editor'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/gateways\/seed$/);
    await page.getByRole('link', { name: 'Add port' }).click();
    const form = page.locator('#port-form');
    await form.getByLabel('Backend port').fill('70000');
    await form.getByRole('button', { name: 'Save port' }).click();
    await expect(page.locator('#port-form').getByRole('alert')).toContainText('Backend port 70000 is out of range');
    await expect(page.locator('tr[data-port="70000"]')).toHaveCount(0);
    await page.locator('#port-form').getByLabel('Backend port').fill('9090');
    await page.locator('#port-form').getByRole('button', { name: 'Save port' }).click();
    await expect(page).toHaveURL(/\/gateways\/seed$/);
    await expect(page.locator('tr[data-port="9090"]')).toBeVisible();
    await page.locator('tr[data-port="9090"]').getByRole('link', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete port' }).click();
    await expect(page.locator('tr[data-port="9090"]')).toHaveCount(0);
  });
});

test('a viewer reads the topology but cannot edit it', async ({ page, baseURL }) => {
  await signIn(page, 'viewer', '/gateways/seed');
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

test('the gateway page screenshot', async ({ page }, info) => {
  await page.setViewportSize({ width: 1280, height: 1400 });
  await signIn(page, 'viewer', '/gateways/seed');
  await page.screenshot({ path: info.outputPath('gateway.png'), fullPage: false });
});

test('an admin deletes the gateway after typing its name', async ({ page }) => {
  await signIn(page, 'admin', '/gateways/seed');
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
    await expect(page.getByRole('heading', { name: 'No gateways yet' })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
});
