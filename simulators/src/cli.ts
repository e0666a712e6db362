/** `npm run sim -- --help`: the simulated fleet as a process. */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { devicePassword } from '../../server/src/auth/broker-accounts.ts';
import { SiteFileError, loadSite } from '../../server/src/catalogue/load.ts';
import { HELP, parseCliArgs, type CliOptions } from './cli-args.ts';
import { SimEnv } from './env.ts';
import { SimError } from './errors.ts';
import { startFleet, type Fleet } from './fleet.ts';
import { RateMeter, speedForRate } from './rate.ts';
import { SCENARIOS, findScenario, scenarioStartMs, type Scenario } from './scenarios.ts';
import { selectDevices, type Injection } from './simulation.ts';

const STATS_EVERY_MS = 10_000;
/** How long a stop waits for a fleet that is still connecting. */
const START_UP_GRACE_MS = 3_000;

/** The embedded broker's per-device accounts: username = device (or concentrator) id, password derived from the secret. */
function deviceCredentials(secretFile: string | null): ((username: string) => { username: string; password: string }) | null {
  if (secretFile === null) return null;
  let secret: string;
  try {
    secret = readFileSync(secretFile, 'utf8').trim();
  } catch (err) {
    throw new SimError('SIM_BAD_OPTION', `--device-secret-file ${secretFile} cannot be read: ${(err as Error).message}`);
  }
  if (secret.length < 16) throw new SimError('SIM_BAD_OPTION', `--device-secret-file ${secretFile} holds no secret of at least 16 characters`);
  return (username) => ({ username, password: devicePassword(secret, username) });
}

/**
 * Where simulated time starts without --start. Faster than real time, the run replays the
 * recent past so that it reaches the present when it ends (or after an hour without
 * --duration): readings from the future are rightly refused by the server.
 */
function defaultStart(options: CliOptions, speed: number): number {
  const wallMs = options.durationMs ?? 3_600_000;
  return Date.now() - Math.max(0, speed - 1) * wallMs;
}

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
  if (options.list) {
    process.stdout.write(`${listScenarios()}\n`);
    return;
  }
  const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
  const loaded = loadSite(options.siteFile);
  const site = options.siteId === null ? loaded : { ...loaded, id: options.siteId };
  const speed = options.rate === null ? options.speed : speedForRate(options.rate, selectDevices(site, options.filter), options.intervalsS, options.sites);
  const scenarios = options.scenarios.map((id) => {
    const scenario = findScenario(id);
    if (!scenario) throw new SimError('SIM_BAD_OPTION', `--scenario "${id}" is not in the catalogue (see --list)`);
    return scenario;
  });
  const startMs = options.startMs ?? defaultStart(options, speed);
  const injections = scenarios.flatMap((scenario): readonly Injection[] => {
    const from = scenarioStartMs(scenario, startMs, new SimEnv(site, options.seed));
    log(`scenario ${scenario.id}: fault starts at simulated ${new Date(from).toISOString()}; expect ${expectation(scenario)}`);
    return scenario.inject(from);
  });
  if (options.rate !== null) log(`target ${options.rate} messages/s: speed ${speed.toFixed(2)}x over ${options.sites} site(s)`);

  const credentialsFor = deviceCredentials(options.deviceSecretFile);
  const fleets: Fleet[] = [];
  // Achieved rate: telemetry and events sent since every device is connected (the online burst left out).
  const sent = () => fleets.reduce((sum, f) => sum + f.counters.telemetry + f.counters.events, 0);
  let meter: RateMeter | undefined;
  const achieved = (recent: boolean) => {
    if (!meter) return 'nothing yet';
    const r = meter.sample(sent(), Date.now());
    const rate = Math.round(recent ? r.recent : r.overall);
    const target = options.rate === null ? '' : ` (target ${options.rate}/s: ${Math.round((rate / options.rate) * 100)} %)`;
    return `${rate}/s${target}`;
  };

  // Copies for load: the same estate under site ids blue-valley, blue-valley-2 …, each with its own seed.
  let stopping = false;
  const startFleets = async () => {
    for (let n = 1; n <= options.sites && !stopping; n++) {
      fleets.push(await startFleet({
        brokerUrl: options.brokerUrl,
        site: n === 1 ? site : { ...site, id: `${site.id}-${n}` },
        speed,
        seed: options.seed + n - 1,
        filter: options.filter,
        intervalsS: options.intervalsS,
        log,
        startMs,
        ...(credentialsFor && { credentialsFor }),
        ...(n === 1 && injections.length > 0 ? { injections } : {}),
      }));
    }
  };
  const startingUp = startFleets();
  let stats: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  // Signals are handled from before the first fleet connects: a stop during start-up sends the
  // fleets started so far offline, instead of dying by the signal's default action. A fleet still
  // connecting gets a moment to finish (a broker that does not answer would hold the stop up).
  const stop = async (why: string) => {
    if (stopping) process.exit(130); // a second Ctrl-C: give up waiting
    stopping = true;
    log(`${why}: stopping, devices go offline; sent ${achieved(false)} on average`);
    clearInterval(stats);
    clearTimeout(deadline);
    await Promise.race([startingUp.catch(() => {}), delay(START_UP_GRACE_MS)]);
    await Promise.all(fleets.map((f) => f.stop()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT').catch(fail));
  process.on('SIGTERM', () => void stop('SIGTERM').catch(fail));
  try {
    await startingUp;
  } catch (error) {
    if (!stopping) throw error; // stopped meanwhile: the stop decides how this ends
  }
  if (stopping) return;

  meter = new RateMeter(sent(), Date.now());
  stats = setInterval(() => {
    const published = fleets.reduce((sum, f) => sum + f.counters.published, 0);
    // Behind by more than 2 s of wall-clock sending: the broker (or this process) cannot keep up.
    const lagMs = Math.max(...fleets.map((f) => f.lagMs()));
    const behind = lagMs / speed > 2_000 ? `, ${Math.round(lagMs / 1000)} simulated s (${(lagMs / speed / 1000).toFixed(1)} s of sending) behind: the broker cannot take this speed` : '';
    log(`simulated ${new Date(fleets[0]!.simTime()).toISOString()}: ${published} messages; sending ${achieved(true)}${behind}`);
  }, STATS_EVERY_MS);
  if (options.durationMs !== null) deadline = setTimeout(() => void stop('duration reached').catch(fail), options.durationMs);
}

function expectation(scenario: Scenario): string {
  const { alarms, deadLetters } = scenario.expected;
  const parts = alarms.map((a) => `${a.ruleId} on ${a.deviceId} within ${duration(a.withinMs)}${a.chattering ? ' (chattering)' : ''}`);
  if (scenario.expected.suppressesOthers) parts.push('every downstream alarm suppressed');
  if (deadLetters) parts.push(`dead letters: ${deadLetters.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no alarm';
}

function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}

function listScenarios(): string {
  return SCENARIOS.map((s) => `${s.id}\n  ${s.description}\n  expect: ${expectation(s)}`).join('\n');
}

main().catch(fail);
