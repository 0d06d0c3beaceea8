// Screenshots of the real pages, kept as test artifacts (the README's picture comes from here).
import { test, expect } from './fixtures';
import { signIn } from './helpers';

test('overview screenshot', async ({ page }, info) => {
  await page.setViewportSize({ width: 1200, height: 720 });
  await signIn(page, 'admin');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await page.screenshot({ path: info.outputPath('overview.png') });
});
