/** `npm run sim:history -- --days N [--database-url URL] [--seed N]`: fills N days of history into the store the server uses. */
import { parseArgs } from 'node:util';
import { selectTimeSeriesStore } from '../../server/src/adapters/select-time-series.ts';
import { openDatabase } from '../../server/src/adapters/sql/database.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { loadConfig } from '../../server/src/config/config.ts';
import { systemClock } from '../../server/src/ports/clock.ts';
import { fillHistory, historyRows, progressBar } from './history.ts';

const HELP = `Usage: npm run sim:history -- --days N [--database-url URL] [--seed N]

Writes N days of simulated readings (up to now) for the whole site into the
time-series store the server uses (DATABASE_URL / DATA_DIR / INFLUX_URL, as
the server reads them; --database-url overrides DATABASE_URL).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { days: { type: 'string' }, 'database-url': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  const days = Number(values.days ?? '14');
  if (!Number.isFinite(days) || days <= 0) throw new Error(`--days "${values.days}" is not a positive number`);
  const env = { ...process.env, ...(values['database-url'] !== undefined ? { DATABASE_URL: values['database-url'] } : {}) };
  const config = loadConfig(env);
  const site = loadSite(config.siteFile);
  const database = await openDatabase(config.database);
  const store = await selectTimeSeriesStore(config, database, indexSite(site), systemClock);
  const toMs = Date.now();
  const fromMs = toMs - days * 86_400_000;
  const started = Date.now();
  process.stderr.write(`history: ${days} days of ${site.id}, ${historyRows(site, fromMs, toMs).toLocaleString('en')} readings into ${database.engine}\n`);
  const rows = await fillHistory({ site, seed: Number(values.seed ?? config.simSeed), store, fromMs, toMs, onProgress: progressBar((t) => process.stderr.write(t), process.stderr.isTTY) });
  process.stderr.write(`history: ${rows.toLocaleString('en')} readings in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  await store.close();
  await database.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`sim:history: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
