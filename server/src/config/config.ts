/**
 * Every environment variable the product reads, in one schema, read once at
 * start-up. This is the only module that looks at process.env (main.ts passes
 * it in); everything else receives a typed Config.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Url = (protocols: string[]) => Type.String({ pattern: `^(${protocols.join('|')})://.+`, description: `a ${protocols.join(' or ')} URL` });

export const ConfigSchema = Type.Object({
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: Type.Optional(Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent'),
  ])),
  MQTT_URL: Type.Optional(Url(['mqtt', 'mqtts', 'ws', 'wss', 'tcp'])),
  MQTT_PORT: Type.Optional(Port),
  MQTT_USERNAME: Type.Optional(Type.String()),
  MQTT_PASSWORD: Type.Optional(Type.String()),
  MQTT_SHARE_GROUP: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$', description: 'letters, digits, _ and - only' })),
  PARTITION_LEASE_S: Type.Optional(Type.Number({ minimum: 0.3, maximum: 600, description: 'seconds, 0.3 to 600' })),
  DATABASE_URL: Type.Optional(Url(['postgres', 'postgresql'])),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  INFLUX_URL: Type.Optional(Url(['http', 'https'])),
  INFLUX_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  INFLUX_ORG: Type.Optional(Type.String({ minLength: 1 })),
  INFLUX_BUCKET: Type.Optional(Type.String({ minLength: 1 })),
  SIMULATE: Type.Optional(Type.Boolean()),
  SIM_SPEED: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100_000 })),
  SIM_SEED: Type.Optional(Type.Integer()),
  SIM_HISTORY_DAYS: Type.Optional(Type.Integer({ minimum: 0, maximum: 366, description: 'whole days, 0 to 366' })),
  SITE_FILE: Type.Optional(Type.String({ minLength: 1 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12, maxLength: 200, description: 'at least 12 characters' })),
  SESSION_TTL_HOURS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 30, description: 'hours, more than 0 and at most 720' })),
  COOKIE_SECURE: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('auto')], { description: 'true, false or auto' })),
  TRUST_PROXY: Type.Optional(Type.Boolean({ description: 'true or false' })),
  DEVICE_SECRET: Type.Optional(Type.String({ minLength: 16, description: 'at least 16 characters' })),
});

type Raw = Static<typeof ConfigSchema>;

export interface Config {
  port: number;
  host: string;
  logLevel: NonNullable<Raw['LOG_LEVEL']>;
  /**
   * shareGroup: the deployment's name; instances with the same group share the site's partitions,
   * whose MQTT client ids are `{group}-{site}-{plot}`.
   */
  mqtt: { url: string | null; embeddedPort: number; shareGroup: string; username?: string; password?: string };
  /** Scale-out: a partition's lease lasts leaseMs and is renewed every third of it (README "Scale-out"). */
  partitions: { leaseMs: number };
  database: { url: string | null; dataDir: string };
  influx: { url: string; token: string; org: string; bucket: string } | null;
  simulate: boolean;
  simSpeed: number;
  simSeed: number;
  /** Days of simulated history written on a first start with SIMULATE on; 0: none. */
  simHistoryDays: number;
  siteFile: string | null;
  auth: {
    /** The first admin's password; generated and printed once when absent. */
    adminPassword: string | null;
    sessionTtlMs: number;
    /** 'auto': Secure when the request came over HTTPS (behind a proxy: with trustProxy). */
    cookieSecure: boolean | 'auto';
    /** Behind a reverse proxy: take the client address and protocol from X-Forwarded-*. */
    trustProxy: boolean;
    /** Derives the embedded broker's device passwords; generated and kept under DATA_DIR when absent. */
    deviceSecret: string | null;
  };
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const BOOLEAN_WORDS: Record<string, boolean> = { '1': true, true: true, yes: true, on: true, '0': false, false: false, no: false, off: false };
const NUMERIC_KEYS = new Set(['PORT', 'MQTT_PORT', 'PARTITION_LEASE_S', 'SIM_SPEED', 'SIM_SEED', 'SIM_HISTORY_DAYS', 'SESSION_TTL_HOURS']);
const BOOLEAN_KEYS = new Set(['SIMULATE', 'COOKIE_SECURE', 'TRUST_PROXY']);

/** Turns env strings into the schema's types; leaves unparseable ones as they are, for the schema to report. */
function coerce(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    if (NUMERIC_KEYS.has(key)) out[key] = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    else if (key === 'COOKIE_SECURE' && raw.trim().toLowerCase() === 'auto') out[key] = 'auto';
    else if (BOOLEAN_KEYS.has(key)) out[key] = BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? raw;
    else out[key] = raw;
  }
  return out;
}

/**
 * Reads the configuration from an environment map. `defaults` lets `npm start`
 * (simulation on) and tests (port 0) choose their own defaults; the environment wins.
 */
export function loadConfig(env: Record<string, string | undefined>, defaults: Partial<Record<keyof Raw, string>> = {}): Config {
  const merged: Record<string, string | undefined> = { ...defaults, ...env };
  const raw = coerce(merged);
  const problems = [...Value.Errors(ConfigSchema, raw)].map((e) => {
    const key = e.path.replace(/^\//, '');
    return `${key}=${JSON.stringify(merged[key])}: ${e.schema.description ?? e.message}`;
  });
  const r = raw as Raw;
  const influxKeys = ['INFLUX_URL', 'INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const;
  const influxSet = influxKeys.filter((k) => r[k] !== undefined);
  if (influxSet.length > 0 && influxSet.length < influxKeys.length) {
    problems.push(`InfluxDB needs all of ${influxKeys.join(', ')}; missing ${influxKeys.filter((k) => r[k] === undefined).join(', ')}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: r.PORT ?? 3000,
    host: r.HOST ?? '0.0.0.0',
    logLevel: r.LOG_LEVEL ?? 'info',
    mqtt: {
      url: r.MQTT_URL ?? null,
      embeddedPort: r.MQTT_PORT ?? 1883,
      shareGroup: r.MQTT_SHARE_GROUP ?? 'estatewatch',
      ...(r.MQTT_USERNAME !== undefined && { username: r.MQTT_USERNAME }),
      ...(r.MQTT_PASSWORD !== undefined && { password: r.MQTT_PASSWORD }),
    },
    partitions: { leaseMs: Math.round((r.PARTITION_LEASE_S ?? 15) * 1000) },
    database: { url: r.DATABASE_URL ?? null, dataDir: r.DATA_DIR ?? './data' },
    influx: r.INFLUX_URL && r.INFLUX_TOKEN && r.INFLUX_ORG && r.INFLUX_BUCKET
      ? { url: r.INFLUX_URL, token: r.INFLUX_TOKEN, org: r.INFLUX_ORG, bucket: r.INFLUX_BUCKET }
      : null,
    simulate: r.SIMULATE ?? false,
    simSpeed: r.SIM_SPEED ?? 1,
    simSeed: r.SIM_SEED ?? 1,
    simHistoryDays: r.SIM_HISTORY_DAYS ?? 14,
    siteFile: r.SITE_FILE ?? null,
    auth: {
      adminPassword: r.ADMIN_PASSWORD ?? null,
      sessionTtlMs: (r.SESSION_TTL_HOURS ?? 12) * 3_600_000,
      cookieSecure: r.COOKIE_SECURE ?? 'auto',
      trustProxy: r.TRUST_PROXY ?? false,
      deviceSecret: r.DEVICE_SECRET ?? null,
    },
  };
}
