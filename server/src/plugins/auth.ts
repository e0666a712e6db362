import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { AuthRepository } from '../adapters/sql/auth-repository.ts';
import { AuthService, demoPlotOf, isEmbeddedDemo, sameSecret, type ClientInfo, type Principal } from '../auth/auth-service.ts';
import { isRole, type Access } from '../auth/roles.ts';
import { AppError } from '../errors.ts';

export const SESSION_COOKIE = 'ew_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_SWEEP_MS = 3_600_000;

/** A registered route and who may call it (the route × role matrix test walks these). */
export interface RouteAccess { method: string; url: string; allow: Access }

export interface Auth {
  service: AuthService;
  /** Every route registered after the auth plugin, with its declared access. */
  routes: RouteAccess[];
  /** The session cookie's token in a Cookie header (socket.io handshakes), if any. */
  tokenFromCookieHeader(header: string | undefined): string | undefined;
  setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date): void;
  clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void;
  clientOf(request: FastifyRequest): ClientInfo;
  /** How to log in, for the start-up banner. */
  loginHint: string[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: a list of roles, or 'public'. Required on every route. */
    allow?: Access;
  }
  interface FastifyInstance { auth: Auth }
  interface FastifyRequest {
    /** The logged-in user of a non-public route (set by the auth plugin before the handler runs). */
    principal: Principal | null;
  }
}

function describeRoute(route: RouteOptions): string {
  return `${[route.method].flat().join(',')} ${route.url}`;
}

/** Throws, at registration, for a route that declares no access or an unknown role: secure by default. */
function checkDeclaredAccess(route: RouteOptions): Access {
  const allow = route.config?.allow;
  if (allow === undefined) {
    throw new Error(`Route ${describeRoute(route)} declares no access. Add config: { allow: [...roles] } or config: { allow: 'public' } (see server/src/auth/roles.ts).`);
  }
  if (allow !== 'public' && (!Array.isArray(allow) || allow.length === 0 || !allow.every(isRole))) {
    throw new Error(`Route ${describeRoute(route)} has config.allow ${JSON.stringify(allow)}: expected 'public' or a non-empty list of roles from server/src/auth/roles.ts.`);
  }
  return allow;
}

/**
 * Accounts and security for every route: security headers (helmet), the
 * session cookie, role checks from each route's `config.allow`, the CSRF
 * header on state-changing requests, and the login rate limit. Registered
 * before any route, so that it sees (and vets) every one of them.
 */
export default fp(async (app) => {
  const { auth: settings } = app.config;
  const secureCookie = (request: FastifyRequest) => (settings.cookieSecure === 'auto' ? request.protocol === 'https' : settings.cookieSecure);

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        // socket.io: same-origin polling and WebSocket ('self' covers ws:/wss: to this host).
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Only when served over HTTPS: on a plain-HTTP LAN it would break every request.
        ...(settings.cookieSecure === true && { upgradeInsecureRequests: [] }),
      },
    },
    hsts: settings.cookieSecure === true,
  });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new AppError('RATE_LIMITED', `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`),
  });

  const service = new AuthService({
    repository: new AuthRepository(app.database),
    clock: app.clock,
    sessionTtlMs: settings.sessionTtlMs,
    plots: app.site.site.plots.map((p) => p.id),
  });

  const routes: RouteAccess[] = [];
  app.addHook('onRoute', (route) => {
    const allow = checkDeclaredAccess(route);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, allow });
  });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    if (request.is404) return; // the not-found handler answers the same to everyone
    const allow = request.routeOptions.config.allow;
    if (allow === undefined) throw new AppError('FORBIDDEN', 'This route declares no access'); // registered before this plugin
    if (allow === 'public') return;
    const found = await service.authenticate(request.cookies[SESSION_COOKIE]);
    if (found === 'expired') throw new AppError('SESSION_EXPIRED', 'Your session has expired; log in again');
    if (found === null) throw new AppError('UNAUTHENTICATED', 'Log in first');
    if (!allow.includes(found.user.role)) throw new AppError('FORBIDDEN', `A ${found.user.role} may not ${request.method} ${request.routeOptions.url}`);
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, found.csrfToken)) {
        throw new AppError('CSRF_TOKEN_INVALID', `Send the session's CSRF token (from GET /api/auth/me) in the ${CSRF_HEADER} header`);
      }
    }
    request.principal = found;
  });

  const demo = isEmbeddedDemo(app.config);
  const boot = await service.bootstrap({ adminPassword: settings.adminPassword, demo, demoPlot: demoPlotOf(app.site.site.plots) });
  if (boot.generatedAdminPassword !== null) {
    // Printed once, outside the JSON log, for the person starting the server the first time.
    process.stdout.write([
      '',
      '================================================================',
      ' EstateWatch first start: an administrator account was created.',
      `   username: admin`,
      `   password: ${boot.generatedAdminPassword}`,
      ' It is shown this once. Log in and change it (or set ADMIN_PASSWORD',
      ' before the first start to choose it yourself).',
      '================================================================',
      '',
    ].join('\n') + '\n');
  }
  const loginHint = [
    boot.generatedAdminPassword !== null
      ? 'log in as admin with the password printed above'
      : 'log in as admin (password: ADMIN_PASSWORD at first start, or the one printed then)',
    ...(demo ? [`demo accounts (embedded demo only): demo-operator, demo-patrol-officer, demo-technician, … password "bluevalley-demo"`] : []),
  ];

  const sweep = setInterval(() => {
    service.deleteExpiredSessions().catch((error: unknown) => app.log.warn({ err: error }, 'deleting expired sessions failed'));
  }, SESSION_SWEEP_MS);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.decorate('auth', {
    service,
    routes,
    tokenFromCookieHeader: (header: string | undefined) => (header ? app.parseCookie(header)[SESSION_COOKIE] : undefined),
    setSessionCookie: (request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date) => {
      reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookie(request), expires: expiresAt });
    },
    clearSessionCookie: (request: FastifyRequest, reply: FastifyReply) => {
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookie(request) });
    },
    clientOf: (request: FastifyRequest) => ({ address: request.ip, userAgent: String(request.headers['user-agent'] ?? '') }),
    loginHint,
  });
  if (demo) app.log.warn({ accounts: boot.demoAccounts }, 'demo accounts enabled (password "bluevalley-demo"): embedded demo only, never in production');
}, { name: 'auth', dependencies: ['config', 'clock', 'catalogue', 'database'] });
