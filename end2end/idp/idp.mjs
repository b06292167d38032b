// A real, certified OpenID Provider (npm `oidc-provider`) for tests, on loopback only.
//
//   node idp.mjs <port> [<parent pid>]
//   IDP_CLIENTS='[{"client_id":…,"client_secret":…,"redirect_uris":[…]}]' (optional static clients)
//
// Clients register themselves (open dynamic registration), so every test server can use its own
// callback URL. Development interactions accept any login name, which becomes the subject:
//   - e-mail: the part before the first "." @example.com ("alice.2" → alice@example.com), so two
//     subjects can share one e-mail address;
//   - groups: "latchkey-admins" when the name contains "admin", "latchkey-operators" for "ops";
//   - amr: ["pwd", "otp"] when the name contains "mfa" (an IdP that did MFA itself).
// Prints "ready <issuer>" once listening. Exits when the parent process is gone.
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? 0);
const parent = Number(process.argv[3] ?? 0);
const issuer = `http://127.0.0.1:${port}`;

function claimsFor(sub) {
  const groups = [];
  if (sub.includes('admin')) groups.push('latchkey-admins');
  if (sub.includes('ops')) groups.push('latchkey-operators');
  return { sub, email: `${sub.split('.')[0]}@example.com`, email_verified: true, name: sub, groups };
}

// Static clients (JSON array in IDP_CLIENTS), for servers started before any test runs.
const clients = JSON.parse(process.env.IDP_CLIENTS ?? '[]');

const provider = new Provider(issuer, {
  clients,
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  async findAccount(ctx, sub) {
    return { accountId: sub, claims: async () => claimsFor(sub) };
  },
  // First-party clients: consent is implied, so the flow is login → code.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
});

// The login step of the development interactions, with one addition: the authentication
// methods (`amr`) are recorded, so an IdP that did MFA can be simulated by the login name.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    const params = new URLSearchParams(Buffer.concat(chunks).toString());
    if (params.get('prompt') === 'login' && params.get('login')) {
      const login = params.get('login');
      const amr = login.includes('mfa') ? ['pwd', 'otp'] : ['pwd'];
      ctx.respond = false;
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login, amr } }, { mergeWithLastSubmission: false });
      return;
    }
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

if (parent) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
