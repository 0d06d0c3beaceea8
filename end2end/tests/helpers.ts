// Shared steps: who the test users are, signing in, and waiting for hydration.
import { expect, Page } from '@playwright/test';
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

const root = path.resolve(__dirname, '..', '..');
export const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
export const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');

/** The sandbox's demo seed (.ci/test exports it) as gateway `name`, with `edit` applied to its
 * text, applied through the real CLI (`portico topology apply`). */
export function applySeed(name: string, edit: (yaml: string) => string = (y) => y) {
  const seed = process.env.PORTICO_E2E_SEED!;
  const text = edit(fs.readFileSync(seed, 'utf8').replace(/^  name: seed$/m, `  name: ${name}`));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portico-e2e-')), `${name}.yaml`);
  fs.writeFileSync(file, text);
  execFileSync(bin, ['--db', db, 'topology', 'apply', '-f', file], { cwd: root });
}
