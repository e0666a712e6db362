/**
 * docker-compose.yml checked without a Docker engine: the server's environment
 * against its config schema, every ${VAR} against .env.example, healthchecks,
 * start order and volumes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigSchema, loadConfig } from '../../server/src/config/config.ts';

const root = new URL('../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const envExample = parseEnv(readFileSync(new URL('.env.example', root), 'utf8'));

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  environment?: Record<string, string | number | boolean>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  command?: string[];
}
const compose = parse(composeText) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = Object.entries(compose.services);
const server = compose.services.server!;

// Compose interpolation: $$ is a literal $, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}.
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(REFERENCE, (whole, name: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) throw new Error(`write \${${bare}}, not $${bare}`);
    const value = env[name!];
    const missing = op?.startsWith(':') ? !value : value === undefined;
    if (!missing) return value!;
    if (op?.endsWith('?')) throw new Error(`${name}: ${arg}`);
    if (op?.endsWith('-')) return arg!;
    throw new Error(`${name} is not set and has no default`);
  });
}

function referencedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(REFERENCE)].flatMap((m) => (m[1] ?? m[4] ? [m[1] ?? m[4]!] : [])));
}

describe('interpolate (the compose rules this test relies on)', () => {
  it('substitutes, defaults, requires and escapes like docker compose', () => {
    expect(interpolate('a${X}b ${Y:-d} ${Z-e} $$SYS', { X: '1', Y: '', Z: '' })).toBe('a1b d  $SYS');
    expect(() => interpolate('${X:?set X}', { X: '' })).toThrow('X: set X');
    expect(() => interpolate('$X', { X: '1' })).toThrow('write ${X}');
  });
});

describe('docker-compose.yml', () => {
  it('gives the server only variables of its config schema', () => {
    const known = Object.keys(ConfigSchema.properties);
    const unknown = Object.keys(server.environment ?? {}).filter((key) => !known.includes(key));
    expect(unknown).toEqual([]);
  });

  it('uses only variables that .env.example lists, and .env.example lists none it does not use', () => {
    const used = referencedVariables(composeText);
    const listed = Object.keys(envExample);
    expect([...used].filter((name) => !listed.includes(name))).toEqual([]);
    expect(listed.filter((name) => !used.has(name))).toEqual([]);
  });

  it('interpolates with .env.example into a server environment that loadConfig accepts', () => {
    const resolved = parse(interpolate(composeText, envExample)) as { services: Record<string, Service> };
    const environment = Object.fromEntries(Object.entries(resolved.services.server!.environment!).map(([k, v]) => [k, String(v)]));
    const config = loadConfig(environment);
    expect(config.mqtt).toMatchObject({ url: 'mqtt://mosquitto:1883', username: envExample.MQTT_USERNAME, password: envExample.MQTT_PASSWORD });
    expect(config.database.url).toBe(`postgres://${envExample.POSTGRES_USER}:${envExample.POSTGRES_PASSWORD}@postgres:5432/${envExample.POSTGRES_DB}`);
    expect(config.influx).toEqual({ url: 'http://influxdb:8086', token: envExample.INFLUX_TOKEN, org: envExample.INFLUX_ORG, bucket: envExample.INFLUX_BUCKET });
    // main.ts defaults SIMULATE to true; in production the devices are real.
    expect(config.simulate).toBe(false);
  });

  it('refuses to start without the secrets', () => {
    for (const secret of ['POSTGRES_PASSWORD', 'INFLUX_TOKEN', 'INFLUX_ADMIN_PASSWORD', 'MQTT_PASSWORD']) {
      expect(() => interpolate(composeText, { ...envExample, [secret]: '' }), secret).toThrow(secret);
    }
  });

  it('gives every service a healthcheck', () => {
    for (const [name, service] of services) {
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
  });

  it('starts the server after mosquitto, postgres and influxdb are healthy', () => {
    const others = services.filter(([name, s]) => name !== 'server' && s.profiles === undefined).map(([name]) => name);
    expect(others.sort()).toEqual(['influxdb', 'mosquitto', 'postgres']);
    for (const name of others) expect(server.depends_on?.[name], name).toEqual({ condition: 'service_healthy' });
  });

  it('keeps the simulators in the demo profile, started after a healthy broker and server', () => {
    const simulators = compose.services.simulators!;
    expect(simulators.profiles).toEqual(['demo']);
    expect(simulators.depends_on).toEqual({ mosquitto: { condition: 'service_healthy' }, server: { condition: 'service_healthy' } });
    expect(simulators.command?.slice(0, 4)).toEqual(['node', '--import', 'tsx', 'simulators/src/cli.ts']);
  });

  it('keeps data in named volumes and mounts host files read-only', () => {
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const [source, , mode] = typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target, volume.read_only ? 'ro' : 'rw'];
        if (source!.startsWith('.') || source!.startsWith('/')) {
          expect(mode, `${name}: ${source}`).toBe('ro');
        } else {
          expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source);
        }
      }
    }
  });

  it('mounts host files that exist, except the generated broker accounts', () => {
    const generated = ['./deploy/mosquitto/passwd', './deploy/mosquitto/acl'];
    const sources = services.flatMap(([, s]) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source)));
    for (const source of sources.filter((s) => s.startsWith('./') && !generated.includes(s))) {
      expect(existsSync(new URL(source, root)), source).toBe(true);
    }
    expect(sources).toEqual(expect.arrayContaining(generated));
  });

  it('builds the server as non-root and never copies broker secrets into the image', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(readFileSync(new URL('.dockerignore', root), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.env', 'deploy']));
  });
});
