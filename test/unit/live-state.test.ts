import { describe, expect, it } from 'vitest';
import { LiveState } from '../../server/src/domain/live-state.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { MINI_DEVICES, miniSiteIndex } from '../support/mini-site.ts';

const site = miniSiteIndex();
const pump = site.device('BP-A-1')!;
const lift = site.device('EL-A-01-1')!;
const T = Date.parse('2025-06-01T12:00:00Z');

const reading = (deviceId: string, ts: number, values: Reading['values'], seq = 0): Reading => ({ deviceId, ts, seq, values });

describe('LiveState', () => {
  it('merges metric values of successive readings and tracks event time and arrival', () => {
    const live = new LiveState();
    live.applyReading(pump, reading('BP-A-1', T, { running: true, pressure_mpa: 0.4 }), T + 50);
    live.applyReading(pump, reading('BP-A-1', T + 10_000, { pressure_mpa: 0.45 }), T + 10_050);
    expect(live.get('BP-A-1')).toEqual({
      id: 'BP-A-1', kind: 'booster-pump', status: 'unknown', ts: T + 10_000, seenAt: T + 10_050,
      values: { running: true, pressure_mpa: 0.45 },
    });
  });

  it('a late (older) reading does not overwrite newer values, but still counts as seen', () => {
    const live = new LiveState();
    live.applyReading(pump, reading('BP-A-1', T + 10_000, { pressure_mpa: 0.45 }), T + 10_000);
    live.applyReading(pump, reading('BP-A-1', T, { pressure_mpa: 0.1, running: false }), T + 20_000);
    const state = live.get('BP-A-1')!;
    expect(state.values).toEqual({ pressure_mpa: 0.45 });
    expect(state.ts).toBe(T + 10_000);
    expect(state.seenAt).toBe(T + 20_000);
  });

  it('a reading with the same event time merges (several messages for one instant)', () => {
    const live = new LiveState();
    live.applyReading(lift, reading('EL-A-01-1', T, { floor: 3 }), T);
    live.applyReading(lift, reading('EL-A-01-1', T, { door: 'open' }), T);
    expect(live.get('EL-A-01-1')!.values).toEqual({ floor: 3, door: 'open' });
  });

  it('status comes from the status channel and does not touch values or event time', () => {
    const live = new LiveState();
    live.applyReading(pump, reading('BP-A-1', T, { running: true }), T);
    live.applyStatus('BP-A-1', 'booster-pump', 'offline', T + 5000);
    expect(live.get('BP-A-1')).toMatchObject({ status: 'offline', ts: T, seenAt: T + 5000, values: { running: true } });
    live.applyStatus('BP-A-1', 'booster-pump', 'online', T + 6000);
    expect(live.get('BP-A-1')!.status).toBe('online');
  });

  it('takeChanged: each changed device once, in its latest state, then nothing until the next change', () => {
    const live = new LiveState();
    for (let i = 0; i < 100; i++) live.applyReading(pump, reading('BP-A-1', T + i * 1000, { pressure_mpa: i / 100 }), T + i * 1000);
    live.applyStatus('EL-A-01-1', 'elevator', 'online', T);
    const frame = live.takeChanged();
    expect(frame.map((s) => s.id).sort()).toEqual(['BP-A-1', 'EL-A-01-1']);
    expect(frame.find((s) => s.id === 'BP-A-1')!.values).toEqual({ pressure_mpa: 0.99 });
    expect(live.takeChanged()).toEqual([]);
    live.applyStatus('BP-A-1', 'booster-pump', 'offline', T + 200_000);
    expect(live.takeChanged().map((s) => s.id)).toEqual(['BP-A-1']);
  });

  it('hands out copies: a frame already sent does not change under the caller', () => {
    const live = new LiveState();
    live.applyReading(pump, reading('BP-A-1', T, { pressure_mpa: 0.4 }), T);
    const [sent] = live.takeChanged();
    live.applyReading(pump, reading('BP-A-1', T + 1000, { pressure_mpa: 0.5 }), T + 1000);
    expect(sent!.values).toEqual({ pressure_mpa: 0.4 });
    sent!.values.pressure_mpa = 99;
    expect(live.get('BP-A-1')!.values.pressure_mpa).toBe(0.5);
  });

  it('knows catalogue devices from the start as unknown, and counts by kind × status', () => {
    const live = new LiveState(MINI_DEVICES);
    expect(live.all()).toHaveLength(MINI_DEVICES.length);
    live.applyStatus('BP-A-1', 'booster-pump', 'online', T);
    live.applyStatus('EL-A-01-1', 'elevator', 'offline', T);
    const counts = live.counts();
    expect(counts['booster-pump']).toEqual({ online: 1, offline: 0, unknown: 0 });
    expect(counts.elevator).toEqual({ online: 0, offline: 1, unknown: 0 });
    expect(counts['water-meter']).toEqual({ online: 0, offline: 0, unknown: 1 });
    expect(counts['fire-pump']).toEqual({ online: 0, offline: 0, unknown: 0 });
    expect(live.takeChanged().map((s) => s.id).sort()).toEqual(['BP-A-1', 'EL-A-01-1']);
  });

  it('seed: preloads the stored latest values without marking anything changed; later live readings win', () => {
    const live = new LiveState();
    const applied = live.seed(
      [reading('BP-A-1', T - 60_000, { pressure_mpa: 0.3 }), reading('GONE-1', T, { x: 1 }), reading('EL-A-01-1', T - 5000, { floor: 2 })],
      (id) => site.device(id),
    );
    expect(applied).toBe(2);
    expect(live.get('GONE-1')).toBeUndefined();
    expect(live.get('BP-A-1')).toMatchObject({ status: 'unknown', ts: T - 60_000, seenAt: null, values: { pressure_mpa: 0.3 } });
    expect(live.takeChanged()).toEqual([]);

    live.applyReading(pump, reading('BP-A-1', T - 120_000, { pressure_mpa: 0.1 }), T);
    expect(live.get('BP-A-1')!.values.pressure_mpa).toBe(0.3);
    live.applyReading(pump, reading('BP-A-1', T, { pressure_mpa: 0.5 }), T);
    expect(live.get('BP-A-1')!.values.pressure_mpa).toBe(0.5);
  });
});
