import { test, expect } from '@playwright/test';
import { collectErrors } from './helpers';

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
