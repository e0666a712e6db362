import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config/config.ts';

describe('loadConfig', () => {
  it('gives the embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      mqtt: { url: null, embeddedPort: 1883, shareGroup: 'estatewatch' },
      database: { url: null, dataDir: './data' },
      influx: null,
      simulate: false,
      siteFile: null,
    });
  });

  it('reads the partition lease in seconds, 15 by default', () => {
    expect(loadConfig({}).partitions).toEqual({ leaseMs: 15_000 });
    expect(loadConfig({ PARTITION_LEASE_S: '2.5' }).partitions).toEqual({ leaseMs: 2_500 });
    expect(() => loadConfig({ PARTITION_LEASE_S: '0' })).toThrow(/PARTITION_LEASE_S="0": seconds, 0.3 to 600/);
  });

  it('reads and converts every kind of value', () => {
    const config = loadConfig({
      PORT: '8080', MQTT_URL: 'mqtt://broker:1883', DATABASE_URL: 'postgres://u@db/x', SIMULATE: 'off',
      SIM_SPEED: '60', INFLUX_URL: 'http://influx:8086', INFLUX_TOKEN: 't', INFLUX_ORG: 'o', INFLUX_BUCKET: 'b',
    });
    expect(config.port).toBe(8080);
    expect(config.mqtt.url).toBe('mqtt://broker:1883');
    expect(config.database.url).toBe('postgres://u@db/x');
    expect(config.simulate).toBe(false);
    expect(config.simSpeed).toBe(60);
    expect(config.influx).toEqual({ url: 'http://influx:8086', token: 't', org: 'o', bucket: 'b' });
  });

  it('lets the environment override start-up defaults', () => {
    expect(loadConfig({}, { SIMULATE: 'true' }).simulate).toBe(true);
    expect(loadConfig({ SIMULATE: '0' }, { SIMULATE: 'true' }).simulate).toBe(false);
  });

  it('reports every bad variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', MQTT_URL: 'http://wrong', SIMULATE: 'maybe', INFLUX_URL: 'http://influx:8086', MQTT_PORT: '70000' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT="eighty"/);
    expect(problems).toMatch(/MQTT_PORT="70000"/);
    expect(problems).toMatch(/MQTT_URL="http:\/\/wrong"/);
    expect(problems).toMatch(/SIMULATE="maybe"/);
    expect(problems).toMatch(/missing INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET/);
    expect((caught as ConfigError).code).toBe('CONFIG_INVALID');
  });
});
