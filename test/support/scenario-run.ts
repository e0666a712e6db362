/**
 * Drives a Simulation and the AlarmEngine together in event time, through the
 * same validation ingest applies to every MQTT message: what the truth table
 * and the normal week judge.
 */
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import { AlarmEngine, siteDetectorContext, type EngineEffect } from '../../server/src/domain/alarms/engine.ts';
import { validateMessage, type RejectReason } from '../../server/src/domain/ingest-validation.ts';
import type { Alarm } from '../../server/src/domain/alarms/alarm-state.ts';
import { SimEnv } from '../../simulators/src/env.ts';
import { Simulation, type SimMessage, type SimulationOptions } from '../../simulators/src/simulation.ts';

/** The simulation's own options, run from `fromMs` (its start) to `toMs`. */
export interface RunOptions extends Omit<SimulationOptions, 'startMs'> {
  readonly fromMs: number;
  readonly toMs: number;
  /** Wall-clock step of the engine's tick (default 10 s). */
  readonly tickMs?: number;
  /**
   * Who counts as living at home for the welfare (no-use) rule (default: every unit). The server learns
   * occupancy from the residents' register; a household that reported a trip is not watched.
   */
  readonly occupied?: (unitId: string, env: SimEnv) => boolean;
  /** Serialise every message and validate it as ingest does (default true); off only to save time on clean data. */
  readonly validate?: boolean;
}

export interface RunResult {
  /** Every annunciated raise: alarm id → event time of the first. */
  readonly annunciated: Map<string, number>;
  readonly alarms: readonly Alarm[];
  readonly deadLetters: readonly RejectReason[];
  readonly messages: number;
}

export function runWithEngine(options: RunOptions): RunResult {
  const { site, fromMs, toMs } = options;
  const index = indexSite(site);
  const sim = new Simulation({
    site, seed: options.seed, startMs: fromMs,
    ...(options.filter ? { filter: options.filter } : {}),
    ...(options.intervalsS ? { intervalsS: options.intervalsS } : {}),
    ...(options.injections ? { injections: options.injections } : {}),
  });
  const env: SimEnv = sim.env;
  const engine = new AlarmEngine({ site: index, context: siteDetectorContext(index, { isNight: (t) => env.isDark(t), occupied: (unitId) => options.occupied?.(unitId, env) ?? true }) });
  const annunciated = new Map<string, number>();
  const deadLetters: RejectReason[] = [];
  const note = (effects: readonly EngineEffect[], at: number) => {
    for (const e of effects) if (e.type === 'alarm-raised' && e.annunciated && !annunciated.has(e.alarm.id)) annunciated.set(e.alarm.id, at);
  };
  const validate = options.validate ?? true;
  let messages = 0;
  let now = fromMs;
  const deliver = (m: SimMessage) => {
    messages++;
    const { device } = m;
    if (!validate) {
      if (m.channel === 'telemetry') note(engine.onReading(device, { deviceId: device.id, ts: m.payload.ts as number, seq: m.payload.seq, values: m.payload.m }, now), m.payload.ts as number);
      else if (m.channel === 'status') note(engine.onStatus(device, m.payload, now), now);
      return;
    }
    const channel = m.channel === 'raw' ? m.on : m.channel;
    const text = m.channel === 'raw' || m.channel === 'status' ? m.payload : JSON.stringify(m.payload);
    const result = validateMessage(deviceTopic(site.id, device.plotId, device.kind, device.id, channel), Buffer.from(text), { site: index, siteId: site.id, now });
    if (!result.ok) deadLetters.push(result.reason);
    else if (result.kind === 'telemetry') note(engine.onReading(result.device, result.reading, now), result.reading.ts);
    else if (result.kind === 'status') note(engine.onStatus(result.device, result.status, now), now);
  };
  const tickMs = options.tickMs ?? 10_000;
  for (now = fromMs; now < toMs;) {
    now = Math.min(toMs, now + tickMs);
    sim.advanceTo(now, deliver);
    note(engine.tick(now), now);
  }
  return { annunciated, alarms: engine.alarms(), deadLetters, messages };
}
