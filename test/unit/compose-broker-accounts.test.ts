import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import {
  BrokerAccountsError, aclFile, deviceCredentials, formatCredentialsCsv, mosquittoPasswordHash, parseCredentialsCsv, passwordFile,
} from '../../server/src/deploy/mosquitto-accounts.ts';

const site = loadSite(new URL('../fixtures/tiny-site.json', import.meta.url).pathname);
const services = { server: { username: 'estatewatch-server', password: 'server-pw' } };
let counter = 0;
const fixedPasswords = () => `pw-${++counter}`;

describe('mosquittoPasswordHash', () => {
  it('gives what mosquitto_passwd 2.0.11 wrote for the same password and salt', () => {
    // `mosquitto_passwd -b passwd dev1 pw1` wrote this line.
    const written = '$7$101$/YlKiBeenJzav+YZ$CYrcHhrJb1VQejYbDFgjkGBi2hi2DXI/qTR2CkWxZOGdOvdq9o0DZ7QraOAoxM7m/YH8dKp8W/+Cg7BL9L/U3Q==';
    expect(mosquittoPasswordHash('pw1', Buffer.from('/YlKiBeenJzav+YZ', 'base64'))).toBe(written);
  });

  it('salts every hash differently', () => {
    expect(mosquittoPasswordHash('same')).not.toBe(mosquittoPasswordHash('same'));
  });
});

describe('deviceCredentials', () => {
  it('gives every device its id as username and its own topic', () => {
    const devices = deviceCredentials(site, new Map(), fixedPasswords);
    expect(devices).toHaveLength(site.devices.length);
    const pump = site.devices.find((d) => d.kind === 'booster-pump')!;
    expect(devices.find((d) => d.deviceId === pump.id)).toMatchObject({
      username: pump.id,
      publishTopic: `estate/tiny-court/${pump.plotId}/booster-pump/${pump.id}/+`,
    });
    expect(new Set(devices.map((d) => d.password)).size).toBe(devices.length);
  });

  it('keeps the passwords it is given, through the credentials file', () => {
    const first = deviceCredentials(site, new Map(), fixedPasswords);
    const kept = parseCredentialsCsv(formatCredentialsCsv(first), 'test.csv');
    expect(deviceCredentials(site, kept, fixedPasswords)).toEqual(first);
  });

  it('rejects a credentials file it did not write', () => {
    expect(() => parseCredentialsCsv('id,password\nx,y\n', 'x.csv')).toThrow(BrokerAccountsError);
    expect(() => parseCredentialsCsv('device_id,username,password,publish_topic\nonly-an-id\n', 'x.csv')).toThrow(/x.csv line 2/);
  });
});

describe('passwordFile and aclFile', () => {
  const devices = deviceCredentials(site, new Map(), fixedPasswords);

  it('has one hashed line per account and no plain password', () => {
    const text = passwordFile(devices, { ...services, simulator: { username: 'estatewatch-sim', password: 'sim-pw' } });
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(devices.length + 2);
    for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9._-]+:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(text).not.toContain('server-pw');
  });

  it('lets the server read all, each device write its own topic, and the simulator write all only when present', () => {
    const acl = aclFile(site, devices, services);
    expect(acl).toContain('user estatewatch-server\ntopic read estate/#\n');
    expect(acl).not.toContain('estatewatch-sim');
    for (const d of devices) expect(acl).toContain(`user ${d.username}\ntopic write ${d.publishTopic}\n`);
    expect(acl.match(/^topic /gm)).toHaveLength(devices.length + 1);
    expect(aclFile(site, devices, { ...services, simulator: { username: 'estatewatch-sim', password: 'p' } })).toContain('user estatewatch-sim\ntopic write estate/#\n');
  });

  it('refuses usernames that would break the files, duplicates and empty passwords', () => {
    expect(() => passwordFile(devices, { server: { username: 'a:b', password: 'x' } })).toThrow(/may only contain/);
    expect(() => aclFile(site, devices, { server: { username: devices[0]!.username, password: 'x' } })).toThrow(/used twice/);
    expect(() => passwordFile(devices, { server: { username: 'srv', password: '' } })).toThrow(/empty password/);
  });
});
