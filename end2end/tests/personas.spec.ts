import { test, expect, Page } from '@playwright/test';
import { collectErrors, hydrated, signInNew } from './helpers';

const base = `http://localhost:${process.env.LATCHKEY_E2E_PORT ?? 39123}`;

/** An operator's application with one staging credential; returns their paths. */
async function seed(op: Page, name: string): Promise<{ app: string; credential: string }> {
  await op.goto('/applications');
  await op.getByLabel('Name', { exact: true }).fill(name);
  await op.getByLabel('Owner').fill('team-ledger');
  await op.getByLabel('Description').fill('books every payment twice');
  await op.getByRole('button', { name: 'Create application' }).click();
  const app = new URL(op.url()).pathname;
  const staging = op.locator('section[data-env="staging"]');
  await staging.getByText('Issue a credential').click();
  await staging.getByLabel('Name').fill('primary');
  await staging.getByLabel('Scopes (space-separated)').fill('ledger:read ledger:write');
  await staging.getByLabel('Reason').fill('initial deployment');
  await staging.getByRole('button', { name: 'Issue', exact: true }).click();
  await expect(op.getByTestId('secret')).toBeVisible();
  return { app, credential: new URL(op.url()).pathname };
}

test('auditor: browses the history and a timeline, and finds no way to change anything', async ({ browser }) => {
  const opCtx = await browser.newContext();
  const audCtx = await browser.newContext();
  const op = await opCtx.newPage();
  const auditor = await audCtx.newPage();
  const errors = [...collectErrors(op), ...collectErrors(auditor)];
  await signInNew(op, 'ledger-op', 'operator');
  const { app, credential } = await seed(op, 'ledger');

  await signInNew(auditor, 'auditor-ana', 'auditor');
  // The auditor's home: recent events and the chain first.
  await expect(auditor.getByRole('heading', { name: 'Recent events' })).toBeVisible();
  await expect(auditor.getByTestId('dash-chain')).toContainText('verified');
  await expect(auditor.getByRole('link', { name: 'Members' })).toHaveCount(0);
  await expect(auditor.getByRole('link', { name: 'Settings' })).toHaveCount(0);
  for (const path of ['/', '/applications', app, '/credentials', credential, '/requests', '/environments', '/audit']) {
    await auditor.goto(path);
    await hydrated(auditor);
    await expect(auditor.locator('main form[method="post"]'), path).toHaveCount(0);
    await expect(auditor.locator('main summary'), path).toHaveCount(0);
  }
  // The credential's timeline, and the log filtered to it.
  await auditor.goto(credential);
  await expect(auditor.getByTestId('events').locator('tr[data-action="credential.issue"]')).toHaveCount(1);
  await auditor.goto('/audit?action=application.create');
  await expect(auditor.getByTestId('events')).toContainText('ledger');
  // The server refuses anyway.
  const id = credential.split('/').pop();
  const r = await auditor.request.post(`/api/v1/credentials/${id}/revoke`, {
    headers: { Origin: base },
    data: { reason: 'curious' },
  });
  expect(r.status()).toBe(403);
  expect((await r.json()).error.code).toBe('forbidden');
  expect(errors).toEqual([]);
  await opCtx.close();
  await audCtx.close();
});

test('screenshots of every main page, light and dark', async ({ browser }, info) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors = collectErrors(page);
  await signInNew(page, 'shots-admin', 'admin');
  const { app, credential } = await seed(page, 'screenshots');
  // A pending production request, so the approvals pages have something to show.
  await page.goto(app);
  const prod = page.locator('section[data-env="production"]');
  await prod.getByText('Request a credential').click();
  await prod.getByLabel('Name').fill('live');
  await prod.getByLabel('Reason').fill('go live');
  await prod.getByRole('button', { name: 'Submit request' }).click();
  const request = new URL(page.url()).pathname;
  // The policy editor says, live, when a change will need a second administrator.
  await page.goto('/environments');
  await hydrated(page);
  const policy = page.locator('section[data-env="production"]');
  await expect(policy.getByTestId('loosen-hint')).toContainText('will need a second administrator');
  await policy.getByLabel('Approvals to rotate').fill('0');
  await expect(policy.getByTestId('loosen-hint')).toContainText('creates a change request');
  const pages: [string, string][] = [
    ['home', '/'],
    ['applications', '/applications'],
    ['credentials', '/credentials'],
    ['application', app],
    ['credential', credential],
    ['requests', '/requests'],
    ['request', request],
    ['environments', '/environments'],
    ['audit', '/audit'],
    ['members', '/members'],
    ['settings', '/settings'],
    ['account', '/account'],
  ];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, path] of pages) {
      await page.goto(path);
      await hydrated(page);
      await page.screenshot({ path: info.outputPath(`${name}-${scheme}.png`), fullPage: true });
    }
  }
  // A phone, for the on-call case.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(credential);
  await page.screenshot({ path: info.outputPath('credential-phone-dark.png'), fullPage: true });
  expect(errors).toEqual([]);
  await ctx.close();
});
