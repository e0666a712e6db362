/**
 * The alarm engine's evaluation cost per reading (issue 4: measured here, never
 * asserted in a test). The whole estate is simulated hour by hour; each hour's
 * messages are collected first and then timed through AlarmEngine alone, so the
 * simulation's own cost is not counted. The engine learns as it goes (night
 * flow, hourly baselines), as it does in the server.
 */
import { loadSite } from '../../server/src/catalogue/load.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import type { Device } from '../../server/src/catalogue/types.ts';
import type { DeviceStatus } from '../../server/src/contract.ts';
import { AlarmEngine, siteDetectorContext } from '../../server/src/domain/alarms/engine.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { Simulation } from '../../simulators/src/simulation.ts';
import { round1 } from './stats.ts';

export interface EngineCostResult {
  simulatedHours: number;
  readings: number;
  statuses: number;
  /** Mean over every reading and status, engine time only. */
  usPerMessage: number;
  /** The slowest simulated hour's mean. */
  usPerMessageWorstHour: number;
  alarmsRaised: number;
  snapshotMb: number;
}

type Message = { device: Device; reading: Reading } | { device: Device; status: DeviceStatus };

const HOUR = 3_600_000;

export function measureEngineCost(options: { hours: number; startIso?: string }, log: (line: string) => void): EngineCostResult {
  const site = loadSite(null);
  const index = indexSite(site);
  const fromMs = Date.parse(options.startIso ?? '2025-07-07T00:00:00Z');
  const sim = new Simulation({ site, seed: 7, startMs: fromMs });
  const engine = new AlarmEngine({ site: index, context: siteDetectorContext(index, { isNight: (t) => sim.env.isDark(t), occupied: () => true }) });
  let readings = 0;
  let statuses = 0;
  let engineMs = 0;
  let worst = 0;
  let raised = 0;
  for (let hour = 0; hour < options.hours; hour++) {
    const batch: Message[] = [];
    const hourEnd = fromMs + (hour + 1) * HOUR;
    sim.advanceTo(hourEnd, (m) => {
      if (m.channel === 'telemetry') batch.push({ device: m.device, reading: { deviceId: m.device.id, ts: m.payload.ts as number, seq: m.payload.seq, values: m.payload.m } });
      else if (m.channel === 'status') batch.push({ device: m.device, status: m.payload });
    });
    const began = performance.now();
    for (const m of batch) {
      const effects = 'reading' in m ? engine.onReading(m.device, m.reading, m.reading.ts) : engine.onStatus(m.device, m.status, hourEnd);
      for (const e of effects) if (e.type === 'alarm-raised') raised++;
    }
    engine.tick(hourEnd);
    const spent = performance.now() - began;
    engineMs += spent;
    if (batch.length > 0) worst = Math.max(worst, (spent * 1000) / batch.length);
    for (const m of batch) if ('reading' in m) readings++; else statuses++;
    if ((hour + 1) % 6 === 0) log(`  engine: ${hour + 1}/${options.hours} simulated hours, ${readings + statuses} messages`);
  }
  return {
    simulatedHours: options.hours,
    readings,
    statuses,
    usPerMessage: round1((engineMs * 1000) / Math.max(1, readings + statuses)),
    usPerMessageWorstHour: round1(worst),
    alarmsRaised: raised,
    snapshotMb: round1(Buffer.byteLength(JSON.stringify(engine.snapshot())) / 1e6),
  };
}
