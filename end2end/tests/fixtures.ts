// Every browser test runs under this fixture: a page that breaks the Content-Security-Policy
// (a blocked script, style, frame or connection) fails the test that loaded it, so the
// policy the server sends is checked against the hydrated app on every page the tests visit.
import { test as base, expect } from '@playwright/test';

export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ context }, use) => {
      const violations: string[] = [];
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
        });
      });
      context.on('console', (m) => {
        const text = m.text();
        if (m.type() === 'error' && /CSP violation|Content Security Policy/.test(text)) {
          violations.push(text);
        }
      });
      await use(violations);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
