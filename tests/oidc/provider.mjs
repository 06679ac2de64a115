// The OpenID Connect provider CareLog's single sign-on tests sign in through: panva's
// oidc-provider (OpenID Certified), configured as a hospital's identity provider would be
// for CareLog, with test-only conveniences kept apart under /test-admin/.
//
//   node provider.mjs        (environment: PROVIDER_JWKS = a private JWK set, JSON)
//
// It listens on a free loopback port and prints one line, "listening <issuer>", when ready.
// - Clients register themselves (dynamic registration, RFC 7591): each test server
//   registers its own redirect URI. PKCE (S256) is required for every authorization.
// - Accounts: POST /test-admin/accounts {id, password, name, email, groups} creates one;
//   POST /test-admin/accounts/<id>/disable removes it (deprovisioning): from then on the
//   provider finds no such account, so refresh, userinfo and new sign-ins fail.
// - Access tokens for the CareLog API (resource indicator CARELOG_API, RFC 8707) are JWTs
//   (RFC 9068) that live ACCESS_TOKEN_TTL seconds, with the account's groups as a claim.
//   A second resource, OTHER_API, gives tokens with another audience.
// - The login page is a plain form (login, password); consent is granted without a page,
//   as a hospital's first-party application would be.
import http from 'node:http';
import { parse } from 'node:querystring';

import Provider, { errors } from 'oidc-provider';

const CARELOG_API = process.env.CARELOG_API || 'https://carelog.test/api';
const OTHER_API = 'https://other.test/api';
const ACCESS_TOKEN_TTL = Number(process.env.ACCESS_TOKEN_TTL || 4);

const accounts = new Map();

function account(id) {
  const found = accounts.get(id);
  if (!found || found.disabled) return undefined;
  return {
    accountId: id,
    async claims() {
      return { sub: id, name: found.name, email: found.email, groups: found.groups };
    },
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Hospital sign-in</title></head>
<body><h1>Hospital sign-in</h1>${error ? `<p id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label>Login <input id="login" name="login" required></label>
<label>Password <input id="password" name="password" type="password" required></label>
<button id="submit" type="submit">Sign in</button></form></body></html>`;
}

async function grantConsent(provider, details) {
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

async function interaction(provider, req, res, path) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET' && details.prompt.name === 'login') {
    return send(res, 200, loginPage(details.uid));
  }
  if (req.method === 'GET' && details.prompt.name === 'consent') {
    const grantId = await grantConsent(provider, details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST' && path.endsWith('/login')) {
    const form = parse(await readBody(req));
    const found = accounts.get(String(form.login));
    if (!found || found.disabled || found.password !== form.password) {
      return send(res, 200, loginPage(details.uid, 'Unknown login or wrong password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: String(form.login) } }, { mergeWithLastSubmission: false });
  }
  return send(res, 400, 'unexpected interaction', 'text/plain');
}

async function testAdmin(req, res, path) {
  if (req.method !== 'POST') return send(res, 405, 'POST only', 'text/plain');
  const disable = path.match(/^\/test-admin\/accounts\/([^/]+)\/disable$/);
  if (disable) {
    const found = accounts.get(decodeURIComponent(disable[1]));
    if (!found) return send(res, 404, 'no such account', 'text/plain');
    found.disabled = true;
    return send(res, 204, '');
  }
  if (path === '/test-admin/accounts') {
    const body = JSON.parse(await readBody(req));
    accounts.set(body.id, {
      password: body.password,
      name: body.name,
      email: body.email,
      groups: body.groups || [],
      disabled: false,
    });
    return send(res, 201, '{}', 'application/json');
  }
  return send(res, 404, 'not found', 'text/plain');
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    jwks: JSON.parse(process.env.PROVIDER_JWKS),
    cookies: { keys: ['carelog-test-provider-cookie-key'] },
    findAccount: (_ctx, id) => account(id),
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'carelog'],
    pkce: { required: () => true },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    // A refresh token for every client allowed the grant (as Keycloak does), so CareLog
    // can re-ask the provider about its page sessions without forcing a consent prompt.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    extraTokenClaims: async (_ctx, token) => {
      const found = token.accountId && accounts.get(token.accountId);
      return found ? { groups: found.groups, name: found.name } : undefined;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>Error</h1><pre id="error">${escape(JSON.stringify(out))}</pre></body></html>`;
    },
    interactions: { url: (_ctx, details) => `/interaction/${details.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Plain pages (the defaults load web fonts from the internet).
        logoutSource: async (ctx, form) => {
          ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out of the hospital too?</h1>${form}<button id="logout" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="stay" form="op.logoutForm">No, stay signed in</button></body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><h1>Signed out</h1></body></html>';
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== CARELOG_API && indicator !== OTHER_API) throw new errors.InvalidTarget();
          return {
            scope: 'carelog',
            audience: indicator,
            accessTokenTTL: ACCESS_TOKEN_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    let handled;
    if (path.startsWith('/interaction/')) handled = interaction(provider, req, res, path);
    else if (path.startsWith('/test-admin/')) handled = testAdmin(req, res, path);
    else return callback(req, res);
    handled.catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, String(err), 'text/plain');
    });
  });
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
