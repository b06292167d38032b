import { test, expect, Page } from '@playwright/test';

// Fails the test on any uncaught page error or console error (CSP violations included).
// `expectedStatusUrl`: a document deliberately answered with an error status, which Chromium
// reports as a console error for that URL only.
function collectErrors(page: Page, expectedStatusUrl?: string): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expectedStatusUrl && m.location().url.endsWith(expectedStatusUrl) && m.text().startsWith('Failed to load resource')) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  return errors;
}

test('the console page renders on the server and hydrates in Chromium', async ({ page }) => {
  const errors = collectErrors(page);
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Latchkey console' })).toBeVisible();
  // Set by an effect that only runs once the wasm bundle has hydrated the page.
  await expect(page.locator('.app[data-hydrated="true"]')).toHaveCount(1);
  await expect(page).toHaveTitle('Welcome · Latchkey');
  expect(errors).toEqual([]);
});

test('an unknown page answers 404 with the console not-found page', async ({ page }) => {
  const errors = collectErrors(page, '/no/such/page');
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.locator('.app[data-hydrated="true"]')).toHaveCount(1);
  expect(errors).toEqual([]);
});
