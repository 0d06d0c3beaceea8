// The admin page's alerts: a webhook added with the secret Portico makes (shown once, by the
// hydrated page), and without JavaScript: a refusal on the form, then one with its own secret,
// then removed.
import { randomBytes } from 'node:crypto';
import { test, expect } from './fixtures';
import { hydrated, password, signIn } from './helpers';

test('an admin adds a webhook: the secret Portico makes is shown once', async ({ page }) => {
  await signIn(page, 'admin', '/admin');
  await hydrated(page);
  const tail = randomBytes(2).toString('hex');
  const form = page.locator('#add-webhook');
  await form.getByLabel(/^URL/).fill(`https://hooks.example.com/services/T0/B0/x${tail}`);
  await form.getByLabel('Format').selectOption('slack');
  await form.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.locator('#webhook-secret code')).toHaveText(/^[0-9a-f]{64}$/);
  // Listed masked: a Slack webhook's path is its credential.
  const row = page.locator('#webhooks tr', { hasText: `https://hooks.example.com/…${tail}` });
  await expect(row).toContainText('every gateway');
  await expect(row).toContainText('Drift found');
  await expect(page.locator('#webhooks')).not.toContainText('/services/T0');
  await row.getByRole('button', { name: /Remove webhook/ }).click();
  await expect(row).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('an admin adds a webhook with a secret of their own: a bad address is refused first', async ({ page }) => {
    await page.goto('/login?next=%2Fadmin');
    await page.getByLabel('User name').fill('e2e-admin');
    await page.getByLabel('Password').fill(password('admin'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    const tail = randomBytes(2).toString('hex');
    const secret = randomBytes(24).toString('hex');
    let form = page.locator('#add-webhook');
    await form.getByLabel(/^URL/).fill(`ftp://alerts.example.com/x${tail}`);
    await form.getByLabel(/Signing secret/).fill(secret);
    await form.getByRole('button', { name: 'Add webhook' }).click();
    form = page.locator('#add-webhook');
    await expect(form.getByRole('alert')).toContainText('must start with https://');
    await expect(page.locator('#webhooks tr', { hasText: tail })).toHaveCount(0);

    await form.getByLabel(/^URL/).fill(`https://alerts.example.com/portico/x${tail}`);
    await form.getByLabel(/Signing secret/).fill(secret);
    await form.getByLabel('Health changed').uncheck();
    await form.getByRole('button', { name: 'Add webhook' }).click();
    const row = page.locator('#webhooks tr', { hasText: tail });
    await expect(row).toContainText('Drift found');
    await expect(row).not.toContainText('Health changed');
    await row.getByRole('button', { name: /Remove webhook/ }).click();
    await expect(page.locator('#webhooks tr', { hasText: tail })).toHaveCount(0);
  });
});
