/**
 * Telemetry with a known sequence for fault and scale-out tests: every device
 * publishes seq 0, 1, 2, … (QoS 1, from a persistent session that resends
 * across broker restarts), and storedSeqs() reads back which seqs the
 * readings table holds, so a test can say "nothing lost, nothing twice".
 */
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';

export interface StreamDevice { id: string; plotId: string; kind: string }

/** Booster pumps: plain numeric telemetry that raises no alarm. */
export const PUMPS: readonly StreamDevice[] = ['A', 'B', 'C'].flatMap((plot) =>
  [1, 2, 3].map((n) => ({ id: `BP-${plot}-${n}`, plotId: plot, kind: 'booster-pump' })));

export class SeqStream {
  /** Per device, how many messages were handed to the client (seq 0 … n-1). */
  readonly sent = new Map<string, number>();
  private client: MqttClient | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly t0 = Date.now() - 3_600_000;

  constructor(private readonly url: string, private readonly siteId: string, private readonly devices: readonly StreamDevice[], private readonly clientId: string) {}

  async connect(): Promise<void> {
    this.client = await mqtt.connectAsync(this.url, { clientId: this.clientId, clean: false, reconnectPeriod: 200 });
  }

  /** Publishes one message per device per round, `rounds` rounds, `perSecond` messages a second in all. */
  async publish(rounds: number, perSecond: number): Promise<void> {
    const client = this.client!;
    const pending: Promise<unknown>[] = [];
    const gapMs = 1000 / perSecond;
    const started = Date.now();
    let n = 0;
    for (let round = 0; round < rounds && !this.stopping; round++) {
      for (const device of this.devices) {
        const seq = this.sent.get(device.id) ?? 0;
        this.sent.set(device.id, seq + 1);
        const payload = JSON.stringify({ v: 1, ts: this.t0 + seq * 100, seq, m: { running: true, pressure_mpa: 0.4 + (seq % 10) / 100 } });
        pending.push(client.publishAsync(`estate/${this.siteId}/${device.plotId}/${device.kind}/${device.id}/telemetry`, payload, { qos: 1 }));
        n += 1;
        const ahead = started + n * gapMs - Date.now();
        if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      }
    }
    // Resolved once the broker has each one (after reconnecting, for those sent while it was down).
    await Promise.all(pending);
  }

  /** Publishes in the background until stop(). */
  start(perSecond: number): void {
    this.stopping = false;
    this.running = this.publish(Number.MAX_SAFE_INTEGER, perSecond);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = null;
  }

  total(): number {
    return [...this.sent.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
    // Leave no persistent session behind on the broker.
    const cleaner = await mqtt.connectAsync(this.url, { clientId: this.clientId, clean: true });
    await cleaner.endAsync();
  }
}

/** The seqs stored per device, sorted. */
export async function storedSeqs(databaseUrl: string, deviceIds: readonly string[]): Promise<Map<string, number[]>> {
  const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
  try {
    const rows = await sql<{ device_id: string; seq: number }[]>`select device_id, seq::int as seq from readings where device_id in ${sql(deviceIds as string[])} order by device_id, seq`;
    const out = new Map<string, number[]>(deviceIds.map((id) => [id, []]));
    for (const row of rows) out.get(row.device_id)!.push(row.seq);
    return out;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** What is wrong with the stored seqs against what was sent: missing and repeated ones per device (empty when all is well). */
export function seqProblems(sent: ReadonlyMap<string, number>, stored: ReadonlyMap<string, number[]>): Record<string, { missing: number[]; repeated: number[] }> {
  const problems: Record<string, { missing: number[]; repeated: number[] }> = {};
  for (const [id, count] of sent) {
    const seqs = stored.get(id) ?? [];
    const seen = new Set<number>();
    const repeated = seqs.filter((s) => (seen.has(s) ? true : (seen.add(s), false)));
    const missing = Array.from({ length: count }, (_, i) => i).filter((s) => !seen.has(s));
    if (missing.length > 0 || repeated.length > 0) problems[id] = { missing: missing.slice(0, 20), repeated: repeated.slice(0, 20) };
  }
  return problems;
}
