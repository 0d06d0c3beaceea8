// Creates the test users through the real CLI (`portico user add`), with passwords made fresh
// for this run and kept only in a file under target/, never in the repository.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const users = ['admin', 'editor', 'viewer'] as const;

export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const bin = process.env.PORTICO_BIN ?? path.join(root, 'target', 'debug', 'portico');
  const db = process.env.PORTICO_E2E_DB ?? path.join(root, 'target', 'e2e', 'e2e.db');
  const creds: Record<string, string> = {};
  for (const role of users) {
    const name = `e2e-${role}`;
    const password = randomBytes(18).toString('base64url');
    execFileSync(bin, ['--db', db, 'user', 'add', name, '--role', role], { input: password + '\n', cwd: root });
    creds[role] = password;
  }
  fs.writeFileSync(path.join(path.dirname(db), 'credentials.json'), JSON.stringify(creds), { mode: 0o600 });
}
