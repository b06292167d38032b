// Browser tests in Debian's Chromium against the release binary (what `make run` serves).
// Started here: the real test IdP (npm oidc-provider) and Latchkey, both on private loopback ports,
// Latchkey with a throwaway SQLite data directory and SSO pointed at the IdP.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const port = Number(process.env.LATCHKEY_E2E_PORT ?? 39123);
const idpPort = port + 1;
export const base = `http://localhost:${port}`;
const bin = process.env.LATCHKEY_BIN ?? resolve(__dirname, '../target/release/latchkey');
const dataDir = process.env.LATCHKEY_E2E_DATA ?? mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));
process.env.LATCHKEY_E2E_DATA = dataDir;
process.env.LATCHKEY_BIN = bin;

export default defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: base,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    {
      command: `node idp/idp.mjs ${idpPort}`,
      url: `http://127.0.0.1:${idpPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'ignore',
      env: {
        IDP_CLIENTS: JSON.stringify([
          {
            client_id: 'latchkey-e2e',
            client_secret: 'e2e-client-secret-0123456789',
            redirect_uris: [`${base}/auth/oidc/callback`],
          },
        ]),
      },
    },
    {
      command: `${bin} serve`,
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        LATCHKEY_LISTEN: `127.0.0.1:${port}`,
        LATCHKEY_PUBLIC_URL: base,
        LATCHKEY_DATA_DIR: dataDir,
        LATCHKEY_OIDC_ISSUER: `http://127.0.0.1:${idpPort}`,
        LATCHKEY_OIDC_CLIENT_ID: 'latchkey-e2e',
        LATCHKEY_OIDC_CLIENT_SECRET: 'e2e-client-secret-0123456789',
      },
    },
  ],
});
