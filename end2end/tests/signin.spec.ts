import { test, expect } from '@playwright/test';
import { PASSWORD, collectErrors, createUser, enrollTotp, hydrated } from './helpers';

for (const js of [true, false]) {
  const mode = js ? 'hydrated' : 'JavaScript off';

  test.describe(`sign-in (${mode})`, () => {
    test.use({ javaScriptEnabled: js });

    test('local sign-in enrolls TOTP, shows recovery codes once, then the account', async ({ page }, info) => {
      const user = `local-${js ? 'js' : 'nojs'}`;
      createUser(user, 'operator', 'staging');
      const errors = collectErrors(page);
      await page.goto('/login');
      await hydrated(page, js);
      await page.getByLabel('Username').fill(user);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await enrollTotp(page);
      await page.screenshot({ path: info.outputPath('recovery-codes.png') });
      await page.getByRole('button', { name: /I have stored them/ }).click();
      await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
      await page.goto('/account');
      await hydrated(page, js);
      await expect(page.getByTestId('my-grants')).toContainText('operator in staging');
      await expect(page.getByTestId('recovery-left')).toHaveText('10');
      // The codes are never shown again.
      await page.goto('/login?step=codes');
      await expect(page.getByText('shown once and cannot be shown again')).toBeVisible();
      // Signing out ends the session.
      await page.goto('/account');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect(page).toHaveURL(/\/login/);
      await page.goto('/account');
      await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
      // That last page answers 401 (signed out), which Chromium logs; nothing else may.
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    });

    test('a wrong password is refused with a clear message', async ({ page }) => {
      const errors = collectErrors(page);
      await page.goto('/login');
      await hydrated(page, js);
      await page.getByLabel('Username').fill('nobody-here');
      await page.getByLabel('Password').fill('wrong wrong wrong');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText(/did not work|invalid username or password/);
      // Server function errors with JavaScript on are 401 responses, logged by Chromium.
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    });
  });
}

test('single sign-on at the IdP, then TOTP enrollment in the console', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  // The real oidc-provider's login page.
  await page.locator('input[name="login"]').fill('sso-ops.1');
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await expect(page).toHaveURL(/\/login\?step=enroll/);
  await hydrated(page);
  await enrollTotp(page);
  await page.goto('/account');
  await expect(page.getByText(/single sign-on via http:\/\/127\.0\.0\.1/)).toBeVisible();
  await expect(page.getByText('No roles yet')).toBeVisible();
  expect(errors).toEqual([]);
});

test('an admin grants a role on the members page', async ({ page }) => {
  createUser('e2e-admin', 'admin');
  createUser('e2e-newbie', 'auditor');
  const errors = collectErrors(page);
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill('e2e-admin');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await enrollTotp(page);
  await page.goto('/members');
  await hydrated(page);
  const row = page.locator('tr[data-member="e2e-newbie"]');
  await expect(row).toContainText('auditor in every environment');
  await row.getByLabel('Role', { exact: true }).selectOption('operator');
  await row.getByLabel('Environment', { exact: true }).selectOption('staging');
  await row.getByRole('button', { name: 'Grant' }).click();
  await expect(row).toContainText('operator in staging');
  expect(errors).toEqual([]);
});
