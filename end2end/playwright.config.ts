// Browser tests in Debian's Chromium against the release binary (what `make run` serves).
// The server is started here on a private port with a throwaway SQLite data directory.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const port = Number(process.env.LATCHKEY_E2E_PORT ?? 39123);
const bin = process.env.LATCHKEY_BIN ?? resolve(__dirname, '../target/release/latchkey');
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));

export default defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${port}`,
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
  webServer: {
    command: `${bin} serve`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      LATCHKEY_LISTEN: `127.0.0.1:${port}`,
      LATCHKEY_PUBLIC_URL: `http://localhost:${port}`,
      LATCHKEY_DATA_DIR: dataDir,
    },
  },
});
