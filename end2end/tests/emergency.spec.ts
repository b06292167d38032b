import { test, expect } from '@playwright/test';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { collectErrors, hydrated, signInNew, verify } from './helpers';

/** A Slack-like webhook receiver on loopback that records what it gets. */
async function receiver(): Promise<{ server: Server; url: string; got: any[] }> {
  const got: any[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/services/T0/B0/hook`, got };
}

for (const js of [true, false]) {
  const mode = js ? 'hydrated' : 'JavaScript off';

  test(`on-call: paste a leaked prefix, emergency revoke in one click (${mode})`, async ({ browser }) => {
    const hook = await receiver();
    const suffix = js ? 'js' : 'nojs';
    const adminCtx = await browser.newContext({ javaScriptEnabled: js });
    const opCtx = await browser.newContext({ javaScriptEnabled: js });
    const admin = await adminCtx.newPage();
    const op = await opCtx.newPage();
    const errors = [...collectErrors(admin), ...collectErrors(op)];

    // An admin routes emergencies to the on-call channel.
    await signInNew(admin, `hook-admin-${suffix}`, 'admin');
    await admin.goto('/settings');
    await hydrated(admin, js);
    await admin.getByLabel('Name').fill('on-call');
    await admin.getByLabel('URL').fill(hook.url);
    await admin.getByRole('button', { name: 'Add webhook' }).click();
    await expect(admin.getByTestId('webhooks')).toContainText('127.0.0.1');
    await expect(admin.getByTestId('webhooks')).not.toContainText('/services/T0');

    // A staging key exists, and leaks.
    await signInNew(op, `oncall-${suffix}`, 'operator');
    await op.goto('/applications');
    await op.getByLabel('Name', { exact: true }).fill(`partner-${suffix}`);
    await op.getByLabel('Owner').fill('team-partners');
    await op.getByRole('button', { name: 'Create application' }).click();
    const staging = op.locator('section[data-env="staging"]');
    await staging.getByText('Issue a credential').click();
    await staging.getByLabel('Name').fill('ci');
    await staging.getByLabel('Reason').fill('CI pipeline');
    await staging.getByRole('button', { name: 'Issue', exact: true }).click();
    const leaked = (await op.getByTestId('secret').textContent())!.trim();
    expect((await verify(op, leaked, 'staging')).valid).toBe(true);

    // 3 a.m.: the on-call engineer pastes the prefix and lands on the credential.
    await op.goto('/applications');
    await hydrated(op, js);
    await op.getByLabel('Find a credential by token, prefix or key id').fill(leaked.slice(0, 'lk_staging_'.length + 12));
    await op.getByRole('button', { name: 'Find' }).click();
    await expect(op).toHaveURL(/\/credentials\/cred_/);
    const credentialId = new URL(op.url()).pathname.split('/').pop()!;
    await op.getByTestId('emergency-revoke').click();
    await op.locator('details.danger-zone').getByLabel('Reason').fill('token posted in a public gist');
    await op.getByLabel(/Stop this key now/).check();
    await op.getByRole('button', { name: 'Revoke now' }).click();
    await expect(op.getByRole('status')).toContainText('stops verifying on the very next call');
    await expect(op.locator('section[data-status]')).toHaveAttribute('data-status', 'revoked');

    // Verification fails on the very next call; on-call's channel got the message.
    expect((await verify(op, leaked, 'staging')).valid).toBe(false);
    await expect.poll(() => hook.got.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const message = hook.got.find((m) => m.event === 'credential.emergency_revoke');
    expect(message.text).toContain('EMERGENCY REVOKE');
    expect(message.text).toContain('public gist');
    expect(JSON.stringify(hook.got)).not.toContain(leaked);

    // The audit log shows it.
    await op.goto('/audit?action=credential.emergency_revoke');
    await expect(op.getByTestId('events').locator('tr[data-action="credential.emergency_revoke"]', { hasText: credentialId })).toHaveCount(1);
    await expect(op.getByTestId('chain')).toContainText('Chain verified');

    // The replacement request comes pre-filled and follows the normal policy.
    await op.goBack();
    await op.getByTestId('replacement').click();
    await expect(op.locator('section[data-env="staging"]').getByLabel('Name')).toHaveValue('ci');
    expect(errors).toEqual([]);
    hook.server.close();
    await adminCtx.close();
    await opCtx.close();
  });
}
