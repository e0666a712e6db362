/**
 * Who may connect to the embedded broker (aedes) and what they may do: the
 * same rules as the production Mosquitto's ACL (server/src/deploy/mosquitto-accounts.ts).
 *
 *   device         username = device id, password = devicePassword(secret, id);
 *                  publishes only under estate/{site}/{plot}/{kind}/{id}/{channel}; subscribes to nothing
 *   concentrator   username = concentrator-{building id | plot-{plot id}}; publishes for
 *                  the meters of that building (or of the plot outside buildings); subscribes to nothing
 *   server         the ingest account (random password per process): reads estate/#; publishes nothing
 *
 * Device passwords are derived from DEVICE_SECRET with HMAC, so the
 * simulators (and an installer) can compute them without a credentials list.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Device, Site } from '../catalogue/types.ts';
import { CHANNELS, TOPIC_ROOT } from '../contract.ts';

export interface BrokerCredentials { readonly username: string; readonly password: string }

export type BrokerPrincipal =
  | { readonly kind: 'server'; readonly username: string }
  | { readonly kind: 'device' | 'concentrator'; readonly username: string; readonly topicPrefixes: ReadonlySet<string> };

const METER_KINDS: ReadonlySet<string> = new Set(['water-meter', 'electric-meter']);

export function isMeter(device: Device): boolean {
  return METER_KINDS.has(device.kind);
}

/** The concentrator that reports a meter: one per building, one per plot for meters outside buildings. */
export function concentratorOf(meter: Device): string {
  return `concentrator-${meter.buildingId ?? `plot-${meter.plotId}`}`;
}

/** A device's or concentrator's broker password: HMAC-SHA256(secret, username), base64url. */
export function devicePassword(secret: string, username: string): string {
  return createHmac('sha256', secret).update(`estatewatch-broker:${username}`).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

export class BrokerAccessPolicy {
  /** username → the topic prefixes (estate/{site}/{plot}/{kind}/{id}/) it may publish under. */
  private readonly publishers = new Map<string, { kind: 'device' | 'concentrator'; prefixes: Set<string> }>();

  constructor(site: Site, private readonly secret: string, private readonly server: BrokerCredentials) {
    for (const device of site.devices) {
      const prefix = `${TOPIC_ROOT}/${site.id}/${device.plotId}/${device.kind}/${device.id}/`;
      this.publishers.set(device.id, { kind: 'device', prefixes: new Set([prefix]) });
      if (isMeter(device)) {
        const name = concentratorOf(device);
        const concentrator = this.publishers.get(name) ?? { kind: 'concentrator' as const, prefixes: new Set<string>() };
        concentrator.prefixes.add(prefix);
        this.publishers.set(name, concentrator);
      }
    }
    if (this.publishers.has(server.username)) throw new Error(`the broker's server account "${server.username}" collides with a device id`);
  }

  /** The principal for a CONNECT, or null to refuse it. */
  authenticate(username: string | undefined, password: Buffer | undefined): BrokerPrincipal | null {
    if (username === undefined || password === undefined) return null;
    const given = password.toString('utf8');
    if (username === this.server.username) return sameText(given, this.server.password) ? { kind: 'server', username } : null;
    const publisher = this.publishers.get(username);
    if (!publisher || !sameText(given, devicePassword(this.secret, username))) return null;
    return { kind: publisher.kind, username, topicPrefixes: publisher.prefixes };
  }

  mayPublish(principal: BrokerPrincipal, topic: string): boolean {
    if (principal.kind === 'server') return false;
    const cut = topic.lastIndexOf('/');
    return CHANNEL_SET.has(topic.slice(cut + 1)) && principal.topicPrefixes.has(topic.slice(0, cut + 1));
  }

  maySubscribe(principal: BrokerPrincipal, filter: string): boolean {
    return principal.kind === 'server' && (filter === `${TOPIC_ROOT}/#` || filter.startsWith(`${TOPIC_ROOT}/`));
  }
}
