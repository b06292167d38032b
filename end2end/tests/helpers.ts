import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Page, expect } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';

/** Creates a local account with the CLI, as an operator of the server would. */
export function createUser(username: string, role: string, environment?: string): void {
  const args = ['user', 'create', '--username', username, '--role', role, '--password-stdin'];
  if (environment) args.push('--environment', environment);
  execFileSync(process.env.LATCHKEY_BIN!, args, {
    input: PASSWORD,
    env: { ...process.env, LATCHKEY_DATA_DIR: process.env.LATCHKEY_E2E_DATA! },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function base32(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

/** RFC 6238: what an authenticator app shows for this secret now (or `offset` steps later). */
export function totp(secret: string, offset = 0): string {
  const counter = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

const ours = (url: string) => url.startsWith(`http://localhost:${process.env.LATCHKEY_E2E_PORT ?? 39123}`);

/** Fails the test on any uncaught error or console error (CSP violations included) on our pages;
 * the IdP's own login page (another origin) is not ours to judge. */
export function collectErrors(page: Page, expectedStatusUrl?: string): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => {
    if (ours(page.url())) errors.push(`pageerror: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error' || !ours(page.url())) return;
    if (expectedStatusUrl && m.location().url.includes(expectedStatusUrl) && m.text().startsWith('Failed to load resource')) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  return errors;
}

/** Waits until the wasm bundle has hydrated the page (a no-op check with JavaScript off). */
export async function hydrated(page: Page, js = true): Promise<void> {
  if (js) await expect(page.locator('.app[data-hydrated="true"]')).toHaveCount(1);
}

/** On the enrollment step: reads the key, enters the current code, returns the key. */
export async function enrollTotp(page: Page): Promise<string> {
  await expect(page.getByRole('heading', { name: 'Set up your authenticator' })).toBeVisible();
  await expect(page.locator('.qr svg')).toBeVisible();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('heading', { name: 'Your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  return secret;
}

/** A new local account, signed in with TOTP enrolled and recovery codes acknowledged. Returns
 * the TOTP secret, for step-up codes later. */
export async function signInNew(page: Page, username: string, role: string, environment?: string): Promise<string> {
  createUser(username, role, environment);
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const secret = await enrollTotp(page);
  await page.getByRole('button', { name: /I have stored them/ }).click();
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  return secret;
}

/** `POST /api/v1/verify` as a service would call it. */
export async function verify(page: Page, token: string, environment: string): Promise<{ valid: boolean; status?: string }> {
  const r = await page.request.post('/api/v1/verify', {
    headers: { Authorization: `Bearer ${token}` },
    data: { environment },
  });
  expect(r.status()).toBe(200);
  return r.json();
}
