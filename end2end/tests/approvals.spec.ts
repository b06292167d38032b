import { test, expect, Page } from '@playwright/test';
import { collectErrors, hydrated, signInNew, totp, verify } from './helpers';

/** Opens the request on this page and executes it; returns the secret shown once. */
async function executeAndReadSecret(page: Page, requestUrl: string): Promise<string> {
  await page.goto(requestUrl);
  await expect(page.getByText('approved', { exact: true }).first()).toBeVisible();
  await page.getByRole('button', { name: 'Execute and show the secret' }).click();
  await expect(page).toHaveURL(/\/credentials\/cred_/);
  await expect(page.getByRole('heading', { name: /Copy the secret now/ })).toBeVisible();
  const secret = (await page.getByTestId('secret').textContent())!.trim();
  expect(secret).toMatch(/^lk_production_[A-Za-z0-9]{50}$/);
  return secret;
}

async function approve(page: Page, requestUrl: string): Promise<void> {
  await page.goto(requestUrl);
  await page.getByLabel('Comment').fill('checked with the payments team');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.locator('section[data-status]').first()).toHaveAttribute('data-status', 'approved');
}

for (const js of [true, false]) {
const mode = js ? 'hydrated' : 'JavaScript off';
const sfx = js ? 'js' : 'nojs';

test(`four eyes in the browser: request, approve with step-up, execute once, end grace (${mode})`, async ({ browser }, info) => {
  const shot = (page: Page, name: string) => page.screenshot({ path: info.outputPath(`${name}-${sfx}.png`), fullPage: true });
  const opCtx = await browser.newContext({ javaScriptEnabled: js });
  const adminCtx = await browser.newContext({ javaScriptEnabled: js });
  const op = await opCtx.newPage();
  const admin = await adminCtx.newPage();
  const errors = [...collectErrors(op), ...collectErrors(admin)];
  await signInNew(op, `flow-op-${sfx}`, 'operator');
  const adminSecret = await signInNew(admin, `flow-admin-${sfx}`, 'admin');

  // The operator creates an application and asks for a production credential.
  await op.goto('/applications');
  await hydrated(op, js);
  await op.getByLabel('Name', { exact: true }).fill(`payments-${sfx}`);
  await op.getByLabel('Owner').fill('team-payments');
  await op.getByRole('button', { name: 'Create application' }).click();
  await expect(op.getByRole('heading', { name: `payments-${sfx}` })).toBeVisible();
  const prod = op.locator('section[data-env="production"]');
  await prod.getByText('Request a credential').click();
  await expect(prod.getByText(/needs 1 approval/)).toBeVisible();
  await prod.getByLabel('Name').fill('primary');
  await prod.getByLabel('Scopes (space-separated)').fill('payments:write');
  await prod.getByLabel('Reason').fill('partner go-live');
  await prod.getByRole('button', { name: 'Submit request' }).click();
  await expect(op).toHaveURL(/\/requests\/chg_/);
  await shot(op, 'request-pending');
  const issueRequest = new URL(op.url()).pathname;
  await expect(op.getByTestId('approvals')).toContainText('0 of 1');
  await expect(op.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  // The admin sees it waiting, confirms with a fresh code, and approves.
  await admin.goto('/requests');
  await expect(admin.getByTestId('nav-requests').locator('.count')).toBeVisible();
  await admin.getByTestId('inbox').getByRole('link', { name: new RegExp(`"primary" for payments-${sfx}`) }).click();
  await admin.goto(`/step-up?next=${issueRequest}`);
  await admin.getByLabel('Authentication code').fill(totp(adminSecret, 1));
  await admin.getByRole('button', { name: 'Confirm' }).click();
  await expect(admin).toHaveURL(issueRequest);
  await shot(admin, 'request-detail');
  await approve(admin, issueRequest);

  // The operator executes and sees the secret once; a reload shows it no more.
  const first = await executeAndReadSecret(op, issueRequest);
  const firstCredential = new URL(op.url()).pathname;
  await shot(op, 'secret-once');
  await op.reload();
  await expect(op.getByRole('heading', { name: /Copy the secret now/ })).toHaveCount(0);
  await expect(op.getByTestId('secret')).toHaveCount(0);
  expect((await verify(op, first, 'production')).valid).toBe(true);

  // A production rotation goes through the same four eyes.
  const rotation = op.locator('details', { hasText: 'Request rotation' });
  await rotation.getByText('Request rotation').click();
  await rotation.getByLabel('Old key keeps working for (seconds)').fill('3600');
  await rotation.getByLabel('Reason').fill('quarterly rotation');
  await op.getByRole('button', { name: 'Submit request' }).click();
  await expect(op).toHaveURL(/\/requests\/chg_/);
  const rotateRequest = new URL(op.url()).pathname;
  await approve(admin, rotateRequest);
  const second = await executeAndReadSecret(op, rotateRequest);
  await op.reload();
  await expect(op.getByTestId('secret')).toHaveCount(0);

  // The old key verifies during grace; "end grace now" retires it at once.
  const during = await verify(op, first, 'production');
  expect(during).toMatchObject({ valid: true, status: 'grace' });
  await op.goto(firstCredential);
  await shot(op, 'credential-in-grace');
  await expect(op.locator('section[data-status]')).toHaveAttribute('data-status', 'grace');
  await op.getByRole('button', { name: 'End grace now' }).click();
  await expect(op.locator('section[data-status]')).toHaveAttribute('data-status', 'expired');
  expect((await verify(op, first, 'production')).valid).toBe(false);
  expect((await verify(op, second, 'production')).valid).toBe(true);
  expect(errors).toEqual([]);
  await opCtx.close();
  await adminCtx.close();
});
}
