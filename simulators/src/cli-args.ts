/** The simulator command line: flags, help text and validation (cli.ts runs it). */
import { parseArgs } from 'node:util';
import { DEVICE_KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import { SimError } from './errors.ts';
import type { DeviceFilter } from './simulation.ts';

export interface CliOptions {
  readonly help: boolean;
  readonly brokerUrl: string;
  readonly speed: number;
  readonly seed: number;
  readonly filter: DeviceFilter;
  /** Wall-clock ms to run before stopping; null runs until Ctrl-C. */
  readonly durationMs: number | null;
  /** Simulated start, epoch ms; null starts at the present moment. */
  readonly startMs: number | null;
  readonly intervalsS: Partial<Record<DeviceKind, number>>;
  readonly siteFile: string | null;
  /** Scenario ids to inject (scenarios.ts); repeatable. */
  readonly scenarios: readonly string[];
  /** Print the scenario catalogue and exit. */
  readonly list: boolean;
  /** Site id to publish under instead of the site file's: keeps a run apart on a shared broker. */
  readonly siteId: string | null;
  /** Copies of the site to run, under site ids {id}, {id}-2, {id}-3 …: load beyond one estate. */
  readonly sites: number;
  /** Target messages per second over all copies: the speed is set to reach it (null: use --speed). */
  readonly rate: number | null;
  /** File holding the embedded broker's DEVICE_SECRET: each device then logs in with its derived password. */
  readonly deviceSecretFile: string | null;
}

export const HELP = `Usage: npm run sim -- [options]

Runs the simulated devices of the estate and publishes their telemetry to an
MQTT broker, as the real devices would (topic estate/{site}/{plot}/{kind}/{id}/{channel}).

Options:
  --broker URL         MQTT broker (default mqtt://127.0.0.1:1883)
  --speed N            simulated seconds per wall-clock second, e.g. 1, 60, 3600 (default 60)
  --seed N             integer seed; one seed always gives the same readings (default 1)
  --plot ID            only the devices of this plot (e.g. A)
  --building ID        only the devices of this building (e.g. A-03)
  --kind KIND          only devices of this kind: ${DEVICE_KINDS.join(', ')}
  --duration D         stop after D of wall-clock time: 90s, 5m, 2h (default: run until Ctrl-C)
  --start TIME         simulated start, ISO 8601, e.g. 2025-06-21T00:00:00+08:00 (default: now at
                       speed 1; faster, the recent past, so that the run reaches the present when
                       --duration ends, or after an hour: a server refuses readings from the future)
  --interval KIND=S    report interval of KIND in simulated seconds; repeatable
                       (default per kind, e.g. water-meter=900, elevator=5)
  --site-file PATH     site file to simulate (default: the built-in Blue Valley)
  --scenario ID        inject a named fault (repeatable); --list shows them all
  --list               list the scenarios with the alarm each must raise, and exit
  --site-id ID         publish under this site id instead of the site file's (a run of its own on a
                       shared broker; a server only accepts its own site's topics)
  --sites N            run N copies of the site, as site ids ID, ID-2 … ID-N (load tests; default 1)
  --rate R             target R telemetry messages/s in total: sets the speed (instead of --speed) to
                       reach it; the achieved rate is printed every 10 s and on exit
  --device-secret-file PATH
                       log every device in to the embedded broker of \`npm start\` with the
                       password derived from this DEVICE_SECRET file (e.g. data/device-secret);
                       for another broker, put credentials in the --broker URL
  -h, --help           show this help

Ctrl-C or SIGTERM stops cleanly: every device publishes "offline" first.
Exit codes: 0 done, 1 runtime failure (e.g. broker unreachable), 2 bad command line or site file.`;

const bad = (message: string) => new SimError('SIM_BAD_OPTION', `${message} (see --help)`);

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw bad(`--duration "${text}" is not a duration like 90s, 5m or 2h`);
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms <= 0) throw bad('--duration must be more than zero');
  return ms;
}

function number(flag: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw bad(`--${flag} "${text}" is not ${integer ? 'an integer' : 'a number'}`);
  }
  return value;
}

function isKind(text: string): text is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(text);
}

export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        broker: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        plot: { type: 'string' },
        building: { type: 'string' },
        kind: { type: 'string' },
        duration: { type: 'string' },
        start: { type: 'string' },
        interval: { type: 'string', multiple: true },
        'site-file': { type: 'string' },
        scenario: { type: 'string', multiple: true },
        list: { type: 'boolean' },
        'site-id': { type: 'string' },
        sites: { type: 'string' },
        rate: { type: 'string' },
        'device-secret-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw bad((err as Error).message);
  }

  const brokerUrl = values.broker ?? 'mqtt://127.0.0.1:1883';
  if (!/^(mqtts?|wss?|tcp):\/\/.+/.test(brokerUrl)) throw bad(`--broker "${brokerUrl}" is not an mqtt://, mqtts://, ws:// or wss:// URL`);
  const speed = number('speed', values.speed, 60);
  if (speed <= 0) throw bad('--speed must be more than zero');

  if (values.kind !== undefined && !isKind(values.kind)) throw bad(`--kind "${values.kind}" is not one of ${DEVICE_KINDS.join(', ')}`);
  const filter: DeviceFilter = {
    ...(values.plot !== undefined ? { plot: values.plot } : {}),
    ...(values.building !== undefined ? { building: values.building } : {}),
    ...(values.kind !== undefined ? { kind: values.kind as DeviceKind } : {}),
  };

  let startMs: number | null = null;
  if (values.start !== undefined) {
    startMs = Date.parse(values.start);
    if (Number.isNaN(startMs)) throw bad(`--start "${values.start}" is not an ISO 8601 time`);
  }

  const intervalsS: Partial<Record<DeviceKind, number>> = {};
  for (const item of values.interval ?? []) {
    const [kind, seconds, extra] = item.split('=');
    if (kind === undefined || seconds === undefined || extra !== undefined || !isKind(kind)) throw bad(`--interval "${item}" is not KIND=SECONDS with a known kind`);
    const value = number('interval', seconds, 0);
    if (value <= 0) throw bad(`--interval ${kind} must be more than zero seconds`);
    intervalsS[kind] = value;
  }

  const siteId = values['site-id'] ?? null;
  if (siteId !== null && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(siteId)) throw bad(`--site-id "${siteId}" is not lower-case letters, digits and dashes`);
  const sites = number('sites', values.sites, 1, true);
  if (sites < 1) throw bad('--sites must be at least 1');
  const rate = values.rate === undefined ? null : number('rate', values.rate, 0);
  if (rate !== null && rate <= 0) throw bad('--rate must be more than zero messages per second');
  if (rate !== null && values.speed !== undefined) throw bad('give --speed or --rate, not both');

  return {
    help: values.help ?? false,
    brokerUrl,
    speed,
    seed: number('seed', values.seed, 1, true),
    filter,
    durationMs: values.duration === undefined ? null : parseDuration(values.duration),
    startMs,
    intervalsS,
    siteFile: values['site-file'] ?? null,
    scenarios: values.scenario ?? [],
    list: values.list ?? false,
    siteId,
    sites,
    rate,
    deviceSecretFile: values['device-secret-file'] ?? null,
  };
}
