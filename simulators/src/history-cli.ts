/** `npm run sim:history -- --days N [--database-url URL] [--seed N]`: fills N days of history into the store the server uses. */
import { parseArgs } from 'node:util';
import { selectTimeSeriesStore } from '../../server/src/adapters/select-time-series.ts';
import { openDatabase } from '../../server/src/adapters/sql/database.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { loadConfig } from '../../server/src/config/config.ts';
import { systemClock } from '../../server/src/ports/clock.ts';
import { SimError } from './errors.ts';
import { fillHistory, historyRows, progressBar } from './history.ts';

const HELP = `Usage: npm run sim:history -- --days N [--database-url URL] [--seed N]

Writes N days of simulated readings (up to now) for the whole site into the
time-series store the server uses (DATABASE_URL / DATA_DIR / INFLUX_URL, as
the server reads them; --database-url overrides DATABASE_URL), then brings the
store's roll-ups up to date. The store must hold no readings yet: a second
history would contradict the registers of the first. Start the server (npm
start) afterwards: its simulated devices carry on from the history's last
readings.

Exit codes: 0 done, 1 runtime failure, 2 bad option or a store that is not empty.`;

/** A usage error: exit code 2, as the sim command. */
const bad = (message: string) => new SimError('SIM_BAD_OPTION', message);

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { days: { type: 'string' }, 'database-url': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw bad(`${(err as Error).message} (see --help)`);
  }
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  const days = Number(values.days ?? '14');
  if (!Number.isFinite(days) || days <= 0 || days > 3_660) throw bad(`--days "${values.days}" is not a number of days from 0 to 3,660`);
  const env = { ...process.env, ...(values['database-url'] !== undefined ? { DATABASE_URL: values['database-url'] } : {}) };
  const config = loadConfig(env);
  const seed = values.seed === undefined ? config.simSeed : Number(values.seed);
  if (!Number.isInteger(seed)) throw bad(`--seed "${values.seed}" is not an integer`);
  const site = loadSite(config.siteFile);
  const database = await openDatabase(config.database);
  const store = await selectTimeSeriesStore(config, database, indexSite(site), systemClock);
  try {
    const existing = await store.latest(site.devices.map((d) => d.id));
    if (existing.length > 0) {
      const newest = Math.max(...existing.map((r) => r.ts));
      throw new SimError('SIM_STORE_NOT_EMPTY', `the store already holds readings of ${existing.length} devices of ${site.id} (newest ${new Date(newest).toISOString()}): fill history only into an empty store (a new DATA_DIR or database), then start the server`);
    }
    const toMs = Date.now();
    const fromMs = toMs - days * 86_400_000;
    const started = Date.now();
    process.stderr.write(`history: ${days} days of ${site.id}, ${historyRows(site, fromMs, toMs).toLocaleString('en')} readings into ${database.engine}\n`);
    const rows = await fillHistory({ site, seed, store, fromMs, toMs, onProgress: progressBar((t) => process.stderr.write(t), process.stderr.isTTY) });
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`history: ${rows.toLocaleString('en')} readings in ${seconds.toFixed(1)} s (${Math.round(rows / seconds).toLocaleString('en')} rows/s)\n`);
    if (store.refresh) {
      const refreshing = Date.now();
      await store.refresh();
      process.stderr.write(`history: roll-ups up to date in ${((Date.now() - refreshing) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await store.close();
    await database.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`sim:history: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof SimError ? 2 : 1);
});
