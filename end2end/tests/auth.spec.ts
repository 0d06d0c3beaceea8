import { test, expect } from './fixtures';
import { hydrated, password, signIn } from './helpers';

test('a signed-out visitor is sent to login, signs in and sees the overview', async ({ page }) => {
  await page.goto('/audit');
  await expect(page).toHaveURL(/\/login\?next=%2Faudit|\/login\?next=\/audit/);
  await hydrated(page);
  await page.getByLabel('User name').fill('e2e-editor');
  await page.getByLabel('Password').fill(password('editor'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByRole('heading', { name: 'No gateways yet' })).toBeVisible();
});

test('a wrong password gets a clear message and no session', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('User name').fill('e2e-viewer');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('the account panel is a control that only works once hydrated', async ({ page }) => {
  await signIn(page, 'viewer');
  const panel = page.locator('#account-panel');
  await expect(panel).toBeHidden();
  await page.getByRole('button', { name: /e2e-viewer/ }).click();
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('reads everything except key values');
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, 'editor');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/audit');
  await expect(page).toHaveURL(/\/login/);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign-in, an error and the overview all work as plain HTML', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('User name').fill('e2e-admin');
    await page.getByLabel('Password').fill('wrong-password-here');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
    await page.getByLabel('User name').fill('e2e-admin');
    await page.getByLabel('Password').fill(password('admin'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'No gateways yet' })).toBeVisible();
  });
});
