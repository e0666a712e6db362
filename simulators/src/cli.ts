/** `npm run sim -- --help`: the simulated fleet as a process. */
import { SiteFileError, loadSite } from '../../server/src/catalogue/load.ts';
import { HELP, parseCliArgs } from './cli-args.ts';
import { SimError } from './errors.ts';
import { startFleet, type Fleet } from './fleet.ts';

const STATS_EVERY_MS = 10_000;

function fail(err: unknown): never {
  const usage = err instanceof SiteFileError || (err instanceof SimError && err.code !== 'SIM_BROKER_UNREACHABLE');
  process.stderr.write(`sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(usage ? 2 : 1);
}

async function main(): Promise<void> {
  const options = parseCliArgs(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
  const fleet: Fleet = await startFleet({
    brokerUrl: options.brokerUrl,
    site: loadSite(options.siteFile),
    speed: options.speed,
    seed: options.seed,
    filter: options.filter,
    intervalsS: options.intervalsS,
    log,
    ...(options.startMs !== null ? { startMs: options.startMs } : {}),
  });

  let lastCount = 0;
  const stats = setInterval(() => {
    const published = fleet.counters.published;
    const lagS = Math.round(fleet.lagMs() / 1000);
    log(`simulated ${new Date(fleet.simTime()).toISOString()}: ${published} messages, ${Math.round(((published - lastCount) * 1000) / STATS_EVERY_MS)}/s${lagS > 60 ? `, ${lagS} simulated s behind: the broker cannot take this speed` : ''}`);
    lastCount = published;
  }, STATS_EVERY_MS);

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) process.exit(130); // a second Ctrl-C: give up waiting
    stopping = true;
    log(`${why}: stopping, devices go offline`);
    clearInterval(stats);
    clearTimeout(deadline);
    await fleet.stop();
    process.exit(0);
  };
  const deadline = options.durationMs === null ? undefined : setTimeout(() => void stop('duration reached').catch(fail), options.durationMs);
  process.on('SIGINT', () => void stop('SIGINT').catch(fail));
  process.on('SIGTERM', () => void stop('SIGTERM').catch(fail));
}

main().catch(fail);
