/**
 * Realistic telemetry for the load generator: one template per device, taken
 * from the simulators (each device's latest report after a quarter of an hour
 * of simulated time, so every kind, meters included, has reported). The hot
 * loop only splices a fresh ts and seq into the pre-serialised metrics.
 */
import { concentratorOf, devicePassword, isMeter } from '../../server/src/auth/broker-accounts.ts';
import type { Device, Site } from '../../server/src/catalogue/types.ts';
import { deviceTopic, PAYLOAD_VERSION } from '../../server/src/contract.ts';
import { Simulation } from '../../simulators/src/simulation.ts';

export interface DeviceTemplate {
  readonly device: Device;
  readonly topic: string;
  /** The device's metrics, serialised once. */
  readonly metricsJson: string;
  seq: number;
}

const WARM_UP_MS = 15 * 60_000;

export function telemetryTemplates(site: Site, exclude: ReadonlySet<string> = new Set()): DeviceTemplate[] {
  const startMs = Date.now() - WARM_UP_MS;
  const sim = new Simulation({ site, seed: 1, startMs });
  const latest = new Map<string, string>();
  sim.advanceTo(startMs + WARM_UP_MS, (message) => {
    if (message.channel === 'telemetry') latest.set(message.device.id, JSON.stringify(message.payload.m));
  });
  return sim.devices
    .filter((device) => !exclude.has(device.id) && latest.has(device.id))
    .map((device) => ({
      device,
      topic: deviceTopic(site.id, device.plotId, device.kind, device.id, 'telemetry'),
      metricsJson: latest.get(device.id)!,
      seq: 0,
    }));
}

/** A contract-conforming telemetry payload with the next seq of the device. */
export function nextPayload(template: DeviceTemplate, ts: number): string {
  template.seq += 1;
  return `{"v":${PAYLOAD_VERSION},"ts":${ts},"seq":${template.seq},"m":${template.metricsJson}}`;
}

/**
 * The broker account a device reports through, as on the real estate (and as
 * the embedded broker's ACL demands): its own, or its meter concentrator's.
 */
export function accountOf(device: Device): string {
  return isMeter(device) ? concentratorOf(device) : device.id;
}

/** Connection options for an account: the derived password on the embedded broker, anonymous on the real one. */
export function credentials(deviceSecret: string | null, account: string): { username?: string; password?: string } {
  return deviceSecret === null ? {} : { username: account, password: devicePassword(deviceSecret, account) };
}
