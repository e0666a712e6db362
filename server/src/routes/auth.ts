import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { sessionView, type Principal } from '../auth/auth-service.ts';
import { PASSWORD_MAX_LENGTH } from '../auth/passwords.ts';
import { ANY_ROLE } from '../auth/roles.ts';
import { SESSION_COOKIE } from '../plugins/auth.ts';
import type { SessionView } from './api-types.ts';

/** Per client address, on top of the per-username and per-address lock-out in LoginThrottle. */
const LOGIN_RATE = { max: 20, timeWindow: 60_000 };

const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
}, { additionalProperties: false });

const PasswordBody = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  newPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
}, { additionalProperties: false });

/** Set by the auth plugin on every non-public route. */
function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new Error(`${request.method} ${request.url}: no principal on a non-public route`);
  return request.principal;
}

/**
 * POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me, PUT /api/auth/password.
 * Login is public: it needs a JSON body (a cross-site form cannot send one) and is rate limited.
 */
const authRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: Static<typeof LoginBody> }>('/api/auth/login', {
    schema: { body: LoginBody },
    config: { allow: 'public', rateLimit: LOGIN_RATE },
  }, async (request, reply) => {
    try {
      const { token, principal } = await app.auth.service.login(request.body.username, request.body.password, app.auth.clientOf(request), request.cookies[SESSION_COOKIE]);
      app.auth.setSessionCookie(request, reply, token, principal.expiresAt);
      const view: SessionView = sessionView(principal);
      return view;
    } catch (error) {
      const retryAfterS = (error as { retryAfterS?: number }).retryAfterS;
      if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
      throw error;
    }
  });

  app.post('/api/auth/logout', { config: { allow: ANY_ROLE } }, async (request, reply) => {
    await app.auth.service.logout(principalOf(request), app.auth.clientOf(request));
    app.auth.clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { config: { allow: ANY_ROLE } }, async (request) => {
    const view: SessionView = sessionView(principalOf(request));
    return view;
  });

  app.put<{ Body: Static<typeof PasswordBody> }>('/api/auth/password', { schema: { body: PasswordBody }, config: { allow: ANY_ROLE } }, async (request, reply) => {
    await app.auth.service.changePassword(principalOf(request), request.body.currentPassword, request.body.newPassword, app.auth.clientOf(request));
    return reply.code(204).send();
  });
};

export default authRoutes;
