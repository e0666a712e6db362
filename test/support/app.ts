/**
 * Starts the whole server for API and end-to-end tests, the way main.ts does,
 * on port 0 with an embedded broker on port 0 and an in-memory PGlite unless
 * the caller points it at real services.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Role } from '../../server/src/auth/roles.ts';
import { buildApp, type BuildOptions } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/config.ts';

export const TEST_DEFAULTS = {
  PORT: '0',
  HOST: '127.0.0.1',
  MQTT_PORT: '0',
  DATA_DIR: 'memory://',
  SIMULATE: 'false',
  LOG_LEVEL: 'silent',
} as const;

export interface TestRequest {
  method?: InjectOptions['method'];
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Acts as a user with this role (default: admin). Tests of authorisation itself pass the role they check. */
  as?: Role;
}

export interface TestServer {
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** An API request through app.inject, made as a logged-in user of the given role. Use this in every API test. */
  request(request: TestRequest): Promise<LightMyRequestResponse>;
  /** Headers (session cookie and the like) for fetch or socket.io clients acting as that role. */
  headersFor(role?: Role): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const config = loadConfig({ ...TEST_DEFAULTS, ...env });
  const app = await buildApp(config, { logger: false, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  // Until accounts exist (issue 8) every request is anonymous; these two are where sessions will be added.
  const headersFor = async (_role: Role = 'admin'): Promise<Record<string, string>> => ({});
  const request = async ({ method = 'GET', url, body, headers = {}, as = 'admin' }: TestRequest) =>
    app.inject({ method, url, headers: { ...(await headersFor(as)), ...headers }, ...(body !== undefined && { payload: body as InjectOptions['payload'] }) });
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, request, headersFor, close: () => app.close() };
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
