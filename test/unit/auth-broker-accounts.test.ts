import { describe, expect, it } from 'vitest';
import { BrokerAccessPolicy, concentratorOf, devicePassword, isMeter } from '../../server/src/auth/broker-accounts.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { deviceTopic } from '../../server/src/contract.ts';

const site = loadSite(new URL('../fixtures/tiny-site.json', import.meta.url).pathname);
const secret = 'a-device-secret-for-tests';
const server = { username: 'estatewatch-server', password: 'server-pw' };
const policy = new BrokerAccessPolicy(site, secret, server);
const pw = (username: string) => Buffer.from(devicePassword(secret, username));
const topic = (id: string, channel: 'telemetry' | 'status' | 'event' = 'telemetry') => {
  const d = site.devices.find((x) => x.id === id)!;
  return deviceTopic(site.id, d.plotId, d.kind, d.id, channel);
};

const pump = site.devices.find((d) => d.kind === 'booster-pump')!;
const otherPump = site.devices.find((d) => d.kind === 'booster-pump' && d.id !== pump.id)!;
const meters = site.devices.filter(isMeter);
const meterT01 = meters.find((d) => d.buildingId === 'T-01')!;
const meterT02 = meters.find((d) => d.buildingId === 'T-02')!;

describe('embedded broker access policy', () => {
  it('derives a stable per-device password from the secret', () => {
    expect(devicePassword(secret, pump.id)).toBe(devicePassword(secret, pump.id));
    expect(devicePassword(secret, pump.id)).not.toBe(devicePassword(secret, otherPump.id));
    expect(devicePassword('another-secret-entirely', pump.id)).not.toBe(devicePassword(secret, pump.id));
  });

  it('authenticates devices, concentrators and the server; refuses wrong or missing credentials', () => {
    expect(policy.authenticate(pump.id, pw(pump.id))).toMatchObject({ kind: 'device', username: pump.id });
    expect(policy.authenticate(concentratorOf(meterT01), pw(concentratorOf(meterT01)))).toMatchObject({ kind: 'concentrator' });
    expect(policy.authenticate(server.username, Buffer.from(server.password))).toMatchObject({ kind: 'server' });
    expect(policy.authenticate(pump.id, pw(otherPump.id))).toBeNull();
    expect(policy.authenticate('NOT-A-DEVICE', pw('NOT-A-DEVICE'))).toBeNull();
    expect(policy.authenticate(server.username, Buffer.from('guess'))).toBeNull();
    expect(policy.authenticate(undefined, undefined)).toBeNull();
  });

  it('lets a device publish only under its own topic, on the contract channels', () => {
    const device = policy.authenticate(pump.id, pw(pump.id))!;
    expect(policy.mayPublish(device, topic(pump.id))).toBe(true);
    expect(policy.mayPublish(device, topic(pump.id, 'status'))).toBe(true);
    expect(policy.mayPublish(device, topic(otherPump.id))).toBe(false);
    expect(policy.mayPublish(device, `estate/${site.id}/${pump.plotId}/fire-pump/${pump.id}/telemetry`)).toBe(false);
    expect(policy.mayPublish(device, `${topic(pump.id)}/extra`)).toBe(false);
    expect(policy.mayPublish(device, topic(pump.id).replace('telemetry', 'config'))).toBe(false);
    expect(policy.maySubscribe(device, 'estate/#')).toBe(false);
    expect(policy.maySubscribe(device, topic(pump.id))).toBe(false);
  });

  it('lets a concentrator publish for the meters of its own building only', () => {
    const concentrator = policy.authenticate(concentratorOf(meterT01), pw(concentratorOf(meterT01)))!;
    expect(policy.mayPublish(concentrator, topic(meterT01.id))).toBe(true);
    expect(policy.mayPublish(concentrator, topic(meterT02.id))).toBe(false);
    expect(policy.mayPublish(concentrator, topic(pump.id))).toBe(false);
  });

  it('lets the server read everything and publish nothing', () => {
    const principal = policy.authenticate(server.username, Buffer.from(server.password))!;
    expect(policy.maySubscribe(principal, 'estate/#')).toBe(true);
    expect(policy.maySubscribe(principal, `estate/${site.id}/#`)).toBe(true);
    expect(policy.maySubscribe(principal, '#')).toBe(false);
    expect(policy.mayPublish(principal, topic(pump.id))).toBe(false);
  });
});
