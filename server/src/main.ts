/**
 * The EstateWatch process: reads the configuration, builds the app, listens,
 * and shuts down gracefully (buffers flushed, devices and clients disconnected)
 * on SIGINT/SIGTERM.
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';

// `npm start` is the demo: the simulated site runs unless SIMULATE says otherwise.
const START_DEFAULTS = { SIMULATE: 'true' } as const;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, START_DEFAULTS);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  const app = await buildApp(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'error while shutting down');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  // The bound port: PORT=0 takes a free one.
  const address = app.server.address();
  const port = address !== null && typeof address === 'object' ? address.port : config.port;
  app.log.info(`EstateWatch is running: open http://${shown}:${port}`);
  process.stdout.write(`\nEstateWatch: open http://${shown}:${port} and ${app.auth.loginHint.join('\n  ')}\n\n`);
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  console.error(code ? `EstateWatch could not start (${code}): ${(error as Error).message}` : error);
  process.exit(1);
});
