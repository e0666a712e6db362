/**
 * Starts the whole server for API and end-to-end tests, the way main.ts does,
 * on port 0 with an embedded broker on port 0 and an in-memory PGlite unless
 * the caller points it at real services.
 *
 * Every request goes through `request({ as })` / `headersFor(role)`: the
 * server has one test user per role (`test-<role>`), each logs in on first
 * use, and the session cookie and CSRF token are cached per role.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { AuthRepository } from '../../server/src/adapters/sql/auth-repository.ts';
import { hashPassword } from '../../server/src/auth/passwords.ts';
import { ROLES, type Role } from '../../server/src/auth/roles.ts';
import { buildApp, type BuildOptions } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/config.ts';
import type { SessionView } from '../../server/src/routes/api-types.ts';

export const TEST_DEFAULTS = {
  PORT: '0',
  HOST: '127.0.0.1',
  MQTT_PORT: '0',
  DATA_DIR: 'memory://',
  SIMULATE: 'false',
  // Tests that simulate write the history they need themselves.
  SIM_HISTORY_DAYS: '0',
  LOG_LEVEL: 'silent',
  ADMIN_PASSWORD: 'test-admin-password',
} as const;

/** The password of every `test-<role>` user. */
export const TEST_PASSWORD = 'test-password-of-every-role';
export const testUsername = (role: Role) => `test-${role}`;

/** scrypt is slow on purpose: hash the shared test password once per process. */
let testPasswordHash: Promise<string> | undefined;

export interface TestRequest {
  method?: InjectOptions['method'];
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Acts as a user with this role (default: admin); null: anonymous. Tests of authorisation itself pass the role they check. */
  as?: Role | null;
}

export interface TestServer {
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** An API request through app.inject, made as a logged-in user of the given role. Use this in every API test. */
  request(request: TestRequest): Promise<LightMyRequestResponse>;
  /** Headers (session cookie and CSRF token) for fetch or socket.io clients acting as that role; cached per role. */
  headersFor(role?: Role): Promise<Record<string, string>>;
  /** A new session for the role (not cached): for tests that end sessions. */
  login(role?: Role): Promise<Record<string, string>>;
  /** Forgets the cached session of a role (after a test logged it out). */
  forget(role: Role): void;
  /** MQTT username/password for a device id (or concentrator-…) on the embedded broker; {} on an external one. */
  mqttCredentials(username: string): { username?: string; password?: string };
  close(): Promise<void>;
}

/** Cookie and CSRF headers from a login response. */
export function sessionHeaders(response: LightMyRequestResponse): Record<string, string> {
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((c) => c.name === 'ew_session');
  if (!cookie) throw new Error('login set no ew_session cookie');
  return { cookie: `ew_session=${cookie.value}`, 'x-csrf-token': (response.json() as SessionView).csrfToken };
}

export async function startTestServer(env: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const config = loadConfig({ ...TEST_DEFAULTS, ...env });
  const app = await buildApp(config, { logger: false, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');

  const users = new AuthRepository(app.database);
  testPasswordHash ??= hashPassword(TEST_PASSWORD);
  const passwordHash = await testPasswordHash;
  const plot = app.site.site.plots[0]?.id ?? null;
  const at = new Date(app.clock.now());
  for (const role of ROLES) {
    if (await users.findUser(testUsername(role))) continue;
    await users.createUser({ username: testUsername(role), displayName: `Test ${role}`, role, plotId: role === 'patrol-officer' ? plot : null, passwordHash }, at);
  }

  const login = async (role: Role = 'admin') => sessionHeaders(await app.inject({
    method: 'POST', url: '/api/auth/login', payload: { username: testUsername(role), password: TEST_PASSWORD },
  }));
  const sessions = new Map<Role, Promise<Record<string, string>>>();
  const headersFor = (role: Role = 'admin'): Promise<Record<string, string>> => {
    let session = sessions.get(role);
    if (!session) {
      session = login(role);
      session.catch(() => sessions.delete(role));
      sessions.set(role, session);
    }
    return session;
  };
  const request = async ({ method = 'GET', url, body, headers = {}, as = 'admin' }: TestRequest) =>
    app.inject({ method, url, headers: { ...(as === null ? {} : await headersFor(as)), ...headers }, ...(body !== undefined && { payload: body as InjectOptions['payload'] }) });
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    request,
    headersFor,
    login,
    forget: (role) => { sessions.delete(role); },
    mqttCredentials: (username) => app.broker.credentialsFor?.(username) ?? {},
    close: () => app.close(),
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
