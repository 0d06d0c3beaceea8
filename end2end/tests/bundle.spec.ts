// The wasm is split by route (app/src/routes.rs, `cargo leptos build --split`): the overview
// loads only the main module, a lazy page's first load fetches its own module beside it, and
// moving between the two in the browser fetches the other page's module when it is needed.
import { test, expect } from './fixtures';
import { hydrated, signIn } from './helpers';

test('each page fetches the wasm modules of its own routes, and no other', async ({ page }) => {
  const wasm: string[] = [];
  page.on('request', (req) => {
    const m = req.url().match(/\/pkg\/([^/?]+\.wasm)$/);
    if (m) wasm.push(m[1]);
  });

  await signIn(page, 'viewer');
  await hydrated(page);
  expect(wasm).toContain('portico.wasm');
  expect(wasm.filter((f) => f.startsWith('split_'))).toEqual([]);

  // A first load of a lazy page fetches its own module (before hydrating) and no other.
  wasm.length = 0;
  await page.goto('/audit');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  const splits = wasm.filter((f) => f.startsWith('split_'));
  expect(splits.some((f) => f.startsWith('split___audit_view'))).toBe(true);
  expect(splits.filter((f) => !f.startsWith('split___audit_view'))).toEqual([]);

  // In the browser: back to the overview (main module only), then to the account page, whose
  // module is fetched on the way and nothing else.
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page).toHaveURL(/\/$/);
  wasm.length = 0;
  await page.getByRole('button', { name: /e2e-viewer/ }).click();
  await page.getByRole('link', { name: 'Password and sessions' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  expect(wasm.some((f) => f.startsWith('split___account_view'))).toBe(true);
  expect(wasm.filter((f) => f.startsWith('split_'))).toEqual(wasm.filter((f) => f.startsWith('split___account_view')));
});
