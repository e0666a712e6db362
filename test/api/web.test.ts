import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

// The web app as the server serves it: pages, files, and what is missing.
describe('serving the web app', () => {
  let server: TestServer;
  let script: string;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    script = readdirSync(fileURLToPath(new URL('../../web/dist/assets/', import.meta.url))).find((f) => f.endsWith('.js'))!;
    server = await startTestServer();
  }, 180_000);
  afterAll(async () => server?.close());

  it('gives the app at / and at any page path, so that a reload keeps its place', async () => {
    for (const url of ['/', '/tickets', '/some/page?x=1']) {
      const response = await server.request({ url, as: null });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain('text/html');
      expect(response.body, url).toContain('<div id="app"');
    }
  });

  it('serves a built file as itself', async () => {
    const response = await server.request({ url: `/assets/${script}`, as: null });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('javascript');
  });

  it('answers a missing file with 404, not with the app', async () => {
    for (const url of ['/assets/gone-1234.js', '/favicon-missing.png']) {
      const response = await server.request({ url, as: null });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).not.toContain('text/html');
    }
  });

  it('answers an unknown API path with a 404 JSON error, signed in or not', async () => {
    for (const as of [null, 'admin'] as const) {
      const response = await server.request({ url: '/api/no-such-thing', as });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('awaits a reply only a few times: no listener leak warning per page', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    for (let i = 0; i < 3; i++) for (const url of ['/', '/tickets', '/missing.png']) await fetch(server.baseUrl + url).then((r) => r.arrayBuffer());
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});
