// Adopting the sandbox's hand-built setup (the console walkthrough, untagged: .ci/sandbox.sh
// starts the sandbox with it) from the overview: an admin lists the region's REST APIs that
// Portico does not manage, inspects one, adopts it and lands on its diagram, drawn with the
// names it was built with; the first run finds nothing to change. Released afterwards, so the
// sandbox is as before for the other specs.
import { test, expect } from './fixtures';
import { deleteGateway, signIn, workerState } from './helpers';

test.skip(!process.env.PORTICO_E2E_SEED, 'needs the AWS sandbox and its demo seed (.ci/test provides both)');
test.afterAll(async ({ browser }) => deleteGateway(browser, 'orders', 'release'));

test('an admin adopts a hand-built API from the overview and sees its diagram', async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Adopt an existing API' }).click();
  await expect(page).toHaveURL(/\/adopt$/);
  await page.getByLabel('Region').fill('ap-northeast-2');
  await page.getByRole('button', { name: 'List REST APIs' }).click();
  await page.getByRole('link', { name: 'Inspect orders-api' }).click();

  const inspection = page.locator('#inspection');
  await expect(inspection).toContainText('It fits');
  await expect(inspection).toContainText('3 backend port(s) on orders-nlb, 3 stage(s), 3 route(s), 1 usage plan(s), 2 key(s)');
  await expect(inspection).toContainText('target group orders-8081');
  await expect(inspection).toContainText('orders-partner');
  await inspection.getByLabel('Gateway name in Portico').fill('orders');
  await inspection.getByRole('button', { name: 'Adopt' }).click();

  await expect(page).toHaveURL(/\/gateways\/orders\/diagram$/);
  const svg = page.locator('figure.diagram svg');
  await expect(svg).toBeVisible();
  await expect(svg).toContainText('orders-nlb');
  await expect(svg).toContainText('orders-api');

  // The first run changes nothing: AWS already is what was adopted.
  await page.goto('/gateways/orders');
  await workerState(page, 'in_sync');
  await expect(page.locator('body')).not.toContainText('+ load balancer');
  await page.goto('/gateways/orders/topology');
  await expect(page.locator('#routes')).toContainText('/{proxy}');
});
