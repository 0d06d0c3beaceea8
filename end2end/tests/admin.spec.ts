import { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test, expect } from './fixtures';
import { bin, db, hydrated, signIn } from './helpers';

test('an admin adds a user, who can then sign in', async ({ page, browser }) => {
  await signIn(page, 'admin');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await hydrated(page);
  const form = page.locator('#add-user');
  const name = `carol-${randomBytes(3).toString('hex')}`;
  const pw = randomBytes(15).toString('base64url');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Role').selectOption('editor');
  await form.getByLabel('Initial password').fill('short');
  // The same rule the server applies, shown while typing.
  await expect(form.locator('.field-error').last()).toHaveText(/at least 12 characters/);
  await form.getByLabel('Initial password').fill(pw);
  await expect(form.locator('.field-error').last()).toHaveText('');
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`tr[data-user="${name}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByRole('combobox')).toHaveValue('editor');

  const other = await browser.newPage();
  await other.goto('/login');
  await hydrated(other);
  await other.getByLabel('User name').fill(name);
  await other.getByLabel('Password').fill(pw);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(other.getByRole('heading', { name: 'No gateways yet' })).toBeVisible();
  await other.close();

  await page.getByRole('link', { name: 'Audit' }).click();
  await expect(page.locator('tbody tr', { hasText: 'user.add' }).filter({ hasText: name })).toHaveCount(1);
});

test('a server-side refusal reaches the form: a duplicate name', async ({ page }) => {
  await signIn(page, 'admin', '/admin');
  await hydrated(page);
  const form = page.locator('#add-user');
  await form.getByLabel('Name').fill('e2e-viewer');
  await form.getByLabel('Initial password').fill(randomBytes(15).toString('base64url'));
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByRole('alert')).toHaveText('A user named "e2e-viewer" already exists.');
});

test('a viewer sees no add button, and a forged post of that form is refused', async ({ page, baseURL }) => {
  await signIn(page, 'viewer');
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByText('Only admins manage users')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add user' })).toHaveCount(0);

  // The viewer's own browser session posts the admin form directly.
  const forged = await page.request.post('/api/add_user', {
    form: { name: 'mallory', role: 'admin', password: randomBytes(15).toString('base64url') },
    headers: { Origin: baseURL!, Accept: 'application/json' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toContain('cannot manage users');

  // And the same post from another site is refused before any role check.
  const crossSite = await page.request.post('/api/add_user', {
    form: { name: 'mallory', role: 'admin', password: randomBytes(15).toString('base64url') },
    headers: { Origin: 'http://evil.example', Accept: 'application/json' },
  });
  expect(crossSite.status()).toBe(403);
  expect(await crossSite.text()).toContain('Cross-site request refused');
});

/** A user made through the real CLI (`portico user add`, password on stdin). */
function addUser(name: string, role: string, pw: string) {
  execFileSync(bin, ['--db', db, 'user', 'add', name, '--role', role], { input: `${pw}\n` });
}

async function signInAs(page: Page, name: string, pw: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: new RegExp(name) })).toBeVisible();
}

test('changing my password signs my other browser out; this one stays', async ({ browser }) => {
  const name = `dana-${randomBytes(3).toString('hex')}`;
  const pw = randomBytes(15).toString('base64url');
  addUser(name, 'viewer', pw);
  const here = await (await browser.newContext()).newPage();
  const elsewhere = await (await browser.newContext()).newPage();
  await signInAs(here, name, pw);
  await signInAs(elsewhere, name, pw);

  await here.getByRole('button', { name: new RegExp(name) }).click();
  await here.getByRole('link', { name: 'Password and sessions' }).click();
  await expect(here.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await hydrated(here);
  const form = here.locator('#change-password');
  await form.getByLabel('Current password').fill('not-my-password');
  await form.getByLabel('New password').fill(`${pw}-new`);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('alert')).toHaveText('The current password is wrong.');
  await form.getByLabel('Current password').fill(pw);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByRole('status')).toContainText('Password changed');

  // This browser carries on; the other is sent to sign in on its next page.
  await here.goto('/audit');
  await expect(here.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await elsewhere.goto('/audit');
  await expect(elsewhere).toHaveURL(/\/login/);
  await signInAs(elsewhere, name, `${pw}-new`);
});

test('an admin resets a password: shown once, the user signed out everywhere', async ({ page, browser }) => {
  const name = `erin-${randomBytes(3).toString('hex')}`;
  const pw = randomBytes(15).toString('base64url');
  addUser(name, 'editor', pw);
  const theirs = await (await browser.newContext()).newPage();
  await signInAs(theirs, name, pw);

  await signIn(page, 'admin', '/admin');
  await hydrated(page);
  await page.locator(`tr[data-user="${name}"]`).getByRole('button', { name: 'Reset password' }).click();
  const shown = page.locator('#reset-password');
  await expect(shown).toContainText(`New password for ${name}`);
  const fresh = (await shown.locator('code').textContent())!.trim();
  expect(fresh.length).toBeGreaterThanOrEqual(12);

  await theirs.goto('/');
  await expect(theirs).toHaveURL(/\/login/);
  await signInAs(theirs, name, fresh);
  // A reload of the admin page does not show it again.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#reset-password')).toHaveCount(0);
});
