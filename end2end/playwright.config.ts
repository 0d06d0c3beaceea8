// Playwright drives Debian's Chromium (never a downloaded browser) against a real Portico
// server that this config starts on a free port with a throw-away database.
import { defineConfig } from '@playwright/test';
import * as path from 'node:path';

const port = process.env.PORTICO_E2E_PORT ?? '3107';
const root = path.resolve(__dirname, '..');
const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `"${bin}" serve --addr 127.0.0.1:${port} --db "${db}"`,
    cwd: root,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    // Health is read every 2 s here (15 s by default) so the tests see changes quickly.
    env: { RUST_LOG: process.env.PORTICO_E2E_LOG ?? 'warn', PORTICO_HEALTH_INTERVAL: '2' },
  },
});
