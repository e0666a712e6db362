import { beforeEach, describe, expect, it } from 'vitest';
import { isAnnunciated } from '../../server/src/domain/alarms/alarm-state.ts';
import {
  AlarmEngine, SNAPSHOT_VERSION, SUPPRESSION_RELEASE_MS, siteDetectorContext, type EngineEffect, type EngineSnapshot, type EngineSnapshotV1,
} from '../../server/src/domain/alarms/engine.ts';
import type { MetricValue } from '../../server/src/contract.ts';
import { ALARM_DEVICES, HOUR, MINUTE, SECOND, T0, alarmSiteIndex, dev, isNight, reading } from '../support/alarm-site.ts';

const site = alarmSiteIndex();
const newEngine = () => new AlarmEngine({ site, context: siteDetectorContext(site, { isNight, occupied: () => true }) });

/** A fake wall clock; readings carry their own event time, here equal to the clock unless given. */
let now = T0;
let engine: AlarmEngine;
let seq = 0;
beforeEach(() => {
  now = T0;
  seq = 0;
  engine = newEngine();
});

const send = (deviceId: string, values: Record<string, MetricValue>, ts = now) => engine.onReading(dev(deviceId), reading(deviceId, ts, values, ++seq), now);
const raised = (effects: readonly EngineEffect[]) => effects.filter((e) => e.type === 'alarm-raised');
const annunciatedRaises = (effects: readonly EngineEffect[]) => raised(effects).filter((e) => e.type === 'alarm-raised' && e.annunciated);
const onScreen = () => engine.alarms().filter(isAnnunciated);
const feederOne = ALARM_DEVICES.filter((d) => d.feederId === 'SS-A/F1');
/** Every device on SS-A feeder 1 reports once, so that their silence can be judged. */
const helloFeederOne = () => feederOne.forEach((d) => send(d.id, {}));

describe('AlarmEngine: one alarm per device and rule', () => {
  it('repeats update the same alarm; two messages in the same millisecond raise it once', () => {
    const first = send('EL-A-01-1', { fault_code: 12 });
    const sameMs = engine.onReading(dev('EL-A-01-1'), reading('EL-A-01-1', now, { fault_code: 12 }, ++seq), now);
    now += 5 * SECOND;
    send('EL-A-01-1', { fault_code: 0 });
    now += 5 * SECOND;
    const again = send('EL-A-01-1', { fault_code: 13 });
    expect(raised(first)).toHaveLength(1);
    expect(sameMs).toEqual([]);
    expect(raised(again)).toHaveLength(1);
    expect(engine.alarms()).toHaveLength(1);
    expect(engine.alarm('EL-A-01-1:elevator.fault')).toMatchObject({ count: 2, value: 13, state: 'unack' });
  });

  it('a late reading neither raises nor clears', () => {
    send('BP-A-1', { current_a: 20 }, T0 + MINUTE);
    expect(send('BP-A-1', { current_a: 90 }, T0)).toEqual([]);
    expect(send('BP-A-1', { current_a: 90 }, T0 + 30 * SECOND)).toEqual([]);
    expect(engine.alarms()).toEqual([]);
  });
});

describe('AlarmEngine: silence and status', () => {
  it('a device silent for more than 3 intervals (at least 60 s) raises device.silent; its next message clears it', () => {
    send('EL-A-01-1', { floor: 1 });
    now = T0 + 60 * SECOND;
    expect(raised(engine.tick(now))).toEqual([]);
    now += 1;
    expect(raised(engine.tick(now)).map((e) => e.alarm.id)).toEqual(['EL-A-01-1:device.silent']);
    now += SECOND;
    expect(send('EL-A-01-1', { floor: 1 }).map((e) => e.type)).toEqual(['alarm-cleared']);
  });

  it('offline status raises device.offline and no silence alarm on top; online clears it', () => {
    send('BP-A-1', { running: true });
    expect(raised(engine.onStatus(dev('BP-A-1'), 'offline', now)).map((e) => e.alarm.ruleId)).toEqual(['device.offline']);
    now += 10 * MINUTE;
    expect(raised(engine.tick(now))).toEqual([]);
    expect(engine.onStatus(dev('BP-A-1'), 'online', now).map((e) => e.type)).toEqual(['alarm-cleared']);
  });

  it('devices never heard from are not judged silent', () => {
    now += HOUR;
    expect(engine.tick(now)).toEqual([]);
  });
});

describe('AlarmEngine: root-cause suppression by a feeder outage', () => {
  it('a substation feeder outage is ONE annunciated alarm; downstream alarms are suppressed and linked to it', () => {
    helloFeederOne();
    send('SS-A', { feeder_1: true, feeder_2: true });
    send('EL-A-01-1', { fault_code: 7 }); // a fault already on screen before the outage
    expect(onScreen().map((a) => a.id)).toEqual(['EL-A-01-1:elevator.fault']);

    now += 10 * SECOND;
    const outage = send('SS-A', { feeder_1: false, feeder_2: true });
    const root = 'SS-A:substation.feeder-outage-1';
    expect(annunciatedRaises(outage).map((e) => e.alarm.id)).toEqual([root]);
    expect(outage.filter((e) => e.type === 'alarm-suppressed').map((e) => 'alarm' in e && e.alarm.id)).toEqual(['EL-A-01-1:elevator.fault']);

    // The feeder's devices fall silent (meters last, after 45 min); the silence also looks like a feeder loss.
    // The substation keeps reporting. None of it reaches the screen.
    now += 50 * MINUTE;
    send('SS-A', { feeder_1: false, feeder_2: true });
    const silence = engine.tick(now);
    expect(raised(silence).map((e) => e.alarm.id).sort()).toEqual(
      [...feederOne.map((d) => `${d.id}:device.silent`), 'SS-A:substation.feeder-lost-1'].sort(),
    );
    expect(annunciatedRaises(silence)).toEqual([]);
    expect(onScreen().map((a) => a.id)).toEqual([root]);
    for (const d of feederOne) expect(engine.alarm(`${d.id}:device.silent`)?.suppressedBy).toBe(root);
    expect(engine.alarm('SS-A:substation.feeder-lost-1')).toMatchObject({ state: 'unack', suppressedBy: root });

    // Power returns; devices report again within the release period; nothing is left to acknowledge but the root.
    now += MINUTE;
    send('SS-A', { feeder_1: true, feeder_2: true });
    expect(annunciatedRaises(engine.tick(now))).toEqual([]); // the inferred loss lags behind and must not surface now
    now += MINUTE;
    helloFeederOne();
    send('EL-A-01-1', { fault_code: 0 });
    now += SUPPRESSION_RELEASE_MS;
    helloFeederOne();
    send('SS-A', { feeder_1: true, feeder_2: true });
    expect(annunciatedRaises(engine.tick(now))).toEqual([]);
    expect(onScreen().map((a) => [a.id, a.state])).toEqual([[root, 'rtn-unack']]);
    expect(engine.alarms().filter((a) => a.suppressedBy !== null)).toEqual([]);
  });

  it('many devices of one feeder going silent together raise one inferred outage and suppress the rest', () => {
    for (let i = 1; i <= 12; i++) send(`EL-B-01-${i}`, { floor: 1 });
    now += 61 * SECOND;
    const effects = engine.tick(now);
    expect(annunciatedRaises(effects).map((e) => e.alarm.id)).toEqual(['SS-B:substation.feeder-lost-1']);
    expect(raised(effects)).toHaveLength(13);
    expect(onScreen()).toHaveLength(1);
    expect(engine.floodingPlots()).toEqual([]);
  });

  it('one silent device on a feeder is just that device', () => {
    for (let i = 1; i <= 12; i++) send(`EL-B-01-${i}`, { floor: 1 });
    now += 50 * SECOND;
    for (let i = 2; i <= 12; i++) send(`EL-B-01-${i}`, { floor: 1 });
    now += 11 * SECOND;
    expect(annunciatedRaises(engine.tick(now)).map((e) => e.alarm.id)).toEqual(['EL-B-01-1:device.silent']);
  });
});

describe('AlarmEngine: flood', () => {
  const fault = (i: number) => send(`EL-B-01-${i}`, { fault_code: 1 });

  it('an area enters flood mode on the 11th new alarm within 10 minutes and leaves it when fewer than 5 remain in the window', () => {
    const effects: EngineEffect[] = [];
    for (let i = 1; i <= 10; i++) {
      now = T0 + (i - 1) * 30 * SECOND;
      effects.push(...fault(i));
    }
    expect(effects.filter((e) => e.type === 'flood-started')).toEqual([]);
    now = T0 + 10 * 30 * SECOND;
    expect(fault(11).filter((e) => e.type === 'flood-started')).toEqual([{ type: 'flood-started', at: now, plotId: 'B' }]);
    expect(engine.floodingPlots()).toEqual(['B']);

    // Raised at 0, 30 … 300 s: the 5th newest (180 s) leaves the 10-min window at 780 s.
    // The elevators keep reporting, so that no silence alarm adds to the count.
    now = T0 + 780 * SECOND - 1;
    for (let i = 1; i <= 12; i++) send(`EL-B-01-${i}`, { floor: 1 });
    expect(engine.tick(T0 + 780 * SECOND - 1).filter((e) => e.type === 'flood-ended')).toEqual([]);
    expect(engine.tick(T0 + 780 * SECOND).filter((e) => e.type === 'flood-ended')).toEqual([{ type: 'flood-ended', at: T0 + 780 * SECOND, plotId: 'B' }]);
    expect(engine.floodingPlots()).toEqual([]);
  });

  it('11 alarms spread over more than 10 minutes are no flood', () => {
    const effects: EngineEffect[] = [];
    for (let i = 1; i <= 11; i++) {
      now = T0 + (i - 1) * 61 * SECOND;
      effects.push(...fault(i));
    }
    expect(effects.filter((e) => e.type === 'flood-started')).toEqual([]);
  });
});

describe('AlarmEngine: operator actions, out of service', () => {
  it('acknowledges, shelves and lets shelving expire on tick', () => {
    send('EL-A-01-1', { fault_code: 3 });
    const id = 'EL-A-01-1:elevator.fault';
    expect(engine.acknowledge('nope', { by: 'op' }, now)).toMatchObject({ ok: false, error: { code: 'ALARM_NOT_FOUND' } });
    expect(engine.acknowledge(id, { by: 'op', comment: 'calling the lift company' }, now)).toMatchObject({ ok: true });
    expect(engine.alarm(id)?.state).toBe('ack');
    expect(engine.shelve(id, { by: 'op', until: now + 25 * HOUR, reason: 'r' }, now)).toMatchObject({ ok: false, error: { code: 'SHELVE_TOO_LONG' } });
    expect(engine.shelve(id, { by: 'op', until: now + HOUR, reason: 'known fault, repair booked' }, now)).toMatchObject({ ok: true });
    expect(onScreen()).toEqual([]);
    now += HOUR;
    send('EL-A-01-1', { floor: 2 });
    expect(engine.tick(now).filter((e) => e.type === 'alarm-unshelved')).toEqual([expect.objectContaining({ expired: true })]);
    expect(onScreen().map((a) => a.id)).toEqual([id]);
  });

  it('a device under an open maintenance ticket raises without annunciation', () => {
    expect(engine.setOutOfService('BP-A-1', true, now)).toEqual([]);
    send('BP-A-1', { current_a: 90 });
    now += 10 * SECOND;
    expect(raised(send('BP-A-1', { current_a: 90 }))).toEqual([expect.objectContaining({ annunciated: false })]);
    expect(engine.setOutOfService('BP-A-1', false, now).map((e) => e.type)).toEqual(['alarm-in-service']);
    expect(onScreen().map((a) => a.id)).toEqual(['BP-A-1:booster-pump.overcurrent']);
  });

  it('resetOutOfService leaves exactly the devices given out of service, whatever a restored alarm says', () => {
    send('BP-A-1', { current_a: 90 });
    send('EL-A-01-1', { fault_code: 12 });
    now += 10 * SECOND;
    send('BP-A-1', { current_a: 90 });
    // A restored state: the elevator's alarm flagged out of service, the switch itself lost.
    engine.setOutOfService('EL-A-01-1', true, now);
    engine.restore({ ...engine.snapshot(), outOfService: [] }, now);

    const effects = engine.resetOutOfService(['BP-A-1'], now);
    expect(effects.map((e) => [e.type, 'alarm' in e && e.alarm.id])).toEqual([
      ['alarm-in-service', 'EL-A-01-1:elevator.fault'], ['alarm-out-of-service', 'BP-A-1:booster-pump.overcurrent'],
    ]);
    expect(engine.snapshot().outOfService).toEqual(['BP-A-1']);
    expect(onScreen().map((a) => a.id)).toEqual(['EL-A-01-1:elevator.fault']);
    expect(engine.resetOutOfService(['BP-A-1'], now)).toEqual([]);
  });
});

describe('AlarmEngine: snapshot and restore', () => {
  const trapped = { floor: 5, between_floors: true, door: 'closed', load_kg: 80 };

  it('restored mid-alarm, the next active reading raises no duplicate and the next clear clears it', () => {
    send('EL-A-01-1', trapped);
    now += 30 * SECOND;
    expect(raised(send('EL-A-01-1', trapped)).map((e) => e.alarm.id)).toEqual(['EL-A-01-1:elevator.entrapment']);

    const saved = JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot;
    engine = newEngine();
    now += 10 * MINUTE; // the server was down for ten minutes
    expect(engine.restore(saved, now)).toEqual({ ok: true });
    expect(engine.tick(now)).toEqual([]); // downtime is not device silence

    expect(send('EL-A-01-1', trapped)).toEqual([]);
    expect(engine.alarms()).toHaveLength(1);
    now += 5 * SECOND;
    expect(send('EL-A-01-1', { ...trapped, door: 'open' }).map((e) => e.type)).toEqual(['alarm-cleared']);
    expect(engine.alarm('EL-A-01-1:elevator.entrapment')).toMatchObject({ count: 1, state: 'rtn-unack' });
  });

  it('a pending on-delay survives the restart', () => {
    send('EL-A-01-1', trapped);
    now += 20 * SECOND;
    send('EL-A-01-1', trapped);
    const saved = JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot;
    engine = newEngine();
    engine.restore(saved, now);
    now += 10 * SECOND;
    expect(raised(send('EL-A-01-1', trapped))).toHaveLength(1);
  });

  it('rejects a snapshot of an unknown version and keeps its state', () => {
    send('EL-A-01-1', { fault_code: 3 });
    const result = engine.restore({ ...engine.snapshot(), version: 3 as 2 }, now);
    expect(result).toMatchObject({ ok: false, error: { code: 'SNAPSHOT_UNSUPPORTED' } });
    expect(engine.alarms()).toHaveLength(1);
  });

  it('migrates a version 1 snapshot (before the water balance): alarms and detectors kept, the balance starts afresh', () => {
    send('EL-A-01-1', trapped);
    now += 30 * SECOND;
    send('EL-A-01-1', trapped);
    const { balances: _b, balanceMeters: _m, ...rest } = engine.snapshot();
    const v1: EngineSnapshotV1 = JSON.parse(JSON.stringify({ ...rest, version: 1 })) as EngineSnapshotV1;
    engine = newEngine();
    expect(engine.restore(v1, now)).toEqual({ ok: true });
    expect(engine.snapshot()).toMatchObject({ version: 2, balances: [], balanceMeters: [] });
    expect(send('EL-A-01-1', trapped)).toEqual([]);
    expect(engine.alarm('EL-A-01-1:elevator.entrapment')).toMatchObject({ state: 'unack', count: 1 });
  });

  it('restored from the alarms table alone, an active alarm is neither cleared nor raised again by its fresh detector', () => {
    const id = 'HY-A-01:hydrant.pressure-low';
    const low = { pressure_mpa: 0.06 };
    send('HY-A-01', low);
    now += 10 * MINUTE;
    expect(raised(send('HY-A-01', low)).map((e) => e.alarm.id)).toEqual([id]);

    // A crash before the first snapshot: only the alarms table is left.
    const alarmsOnly = JSON.parse(JSON.stringify({ ...engine.snapshot(), detectors: [], lastSeen: [] })) as EngineSnapshot;
    engine = newEngine();
    now += 5 * MINUTE;
    engine.restore(alarmsOnly, now);
    // A fresh threshold detector needs 10 min of low readings before it is active: until then it must not clear the alarm.
    const effects = [0, 5, 10, 15].flatMap((m) => send('HY-A-01', low, now + m * MINUTE));
    expect(effects).toEqual([]);
    expect(engine.alarm(id)).toMatchObject({ state: 'unack', count: 1 });
    // Once the detector has found the condition itself, normal readings clear it as usual: after the 10-min off-delay.
    expect(send('HY-A-01', { pressure_mpa: 0.3 }, now + 20 * MINUTE)).toEqual([]);
    expect(send('HY-A-01', { pressure_mpa: 0.3 }, now + 30 * MINUTE).map((e) => e.type)).toEqual(['alarm-cleared']);
    expect(engine.alarm(id)).toMatchObject({ state: 'rtn-unack', count: 1 });
  });

  it('restored from the alarms table alone, a condition that is gone clears once the detector has watched for its on-delay', () => {
    const id = 'HY-A-01:hydrant.pressure-low';
    send('HY-A-01', { pressure_mpa: 0.06 });
    now += 10 * MINUTE;
    send('HY-A-01', { pressure_mpa: 0.06 });
    const alarmsOnly = JSON.parse(JSON.stringify({ ...engine.snapshot(), detectors: [] })) as EngineSnapshot;
    engine = newEngine();
    engine.restore(alarmsOnly, now);
    expect(send('HY-A-01', { pressure_mpa: 0.3 }, now + MINUTE)).toEqual([]);
    expect(send('HY-A-01', { pressure_mpa: 0.3 }, now + 11 * MINUTE - 1)).toEqual([]);
    expect(send('HY-A-01', { pressure_mpa: 0.3 }, now + 11 * MINUTE).map((e) => e.type)).toEqual(['alarm-cleared']);
    expect(engine.alarm(id)).toMatchObject({ state: 'rtn-unack', count: 1 });
  });
});

describe('AlarmEngine: plot water balance', () => {
  const QUARTER = 15 * MINUTE;
  const CONSUMERS = ['WM-A-01-0101', 'WM-A-01-0102', 'WM-A-S01', 'WM-A-S02'];
  const BALANCE = 'WM-A-INLET:water-meter.water-balance';
  const registers = new Map<string, number>();

  /** Quarter-hours q0…q1 of every water meter of plot A: each consumer 1 m³/h, the inlet 4.25 m³/h plus `burst` from quarter `from`. */
  function quarters(q0: number, q1: number, burst = 0, from = 0): EngineEffect[] {
    const effects: EngineEffect[] = [];
    for (let q = q0; q <= q1; q++) {
      now = T0 + q * QUARTER;
      for (const id of [...CONSUMERS, 'WM-A-INLET']) {
        const use = q === 0 ? 0 : (id === 'WM-A-INLET' ? 4.25 + (q > from ? burst : 0) : 1) / 4;
        registers.set(id, (q === 0 ? 100 : registers.get(id)!) + use);
        effects.push(...send(id, { volume_m3: registers.get(id)! }));
      }
    }
    return effects;
  }

  it('a burst raises one alarm on the plot\'s inlet, at the event time of the inlet reading that judged the hour', () => {
    // The burst starts at 60 min; hour 1 is judged by the inlet's reading at 150 min.
    expect(quarters(0, 9, 10, 4)).toEqual([]);
    const effects = quarters(10, 12, 10, 4);
    expect(raised(effects).map((e) => [e.alarm.id, e.at, e.annunciated])).toEqual([[BALANCE, T0 + 150 * MINUTE, true]]);
    expect(engine.alarm(BALANCE)).toMatchObject({ value: 10.25, priority: 2 });
    expect(engine.alarms().map((a) => a.id)).toEqual([BALANCE]);
  });

  it('its state survives a snapshot and restore in the middle of an hour', () => {
    quarters(0, 6, 10, 4);
    const saved = JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot;
    engine = newEngine();
    expect(engine.restore(saved, now)).toEqual({ ok: true });
    expect(raised(quarters(7, 12, 10, 4)).map((e) => [e.alarm.id, e.at])).toEqual([[BALANCE, T0 + 150 * MINUTE]]);
  });
});

describe('AlarmEngine.merge: the snapshots of several partitions as one', () => {
  /** A partition's snapshot with an entry in every field; typed, so a field the snapshot gains must be set here too. */
  const everyField = (plot: 'A' | 'B'): EngineSnapshot => {
    const partition = newEngine();
    const elevator = `EL-${plot}-01-1`;
    partition.onReading(dev(elevator), reading(elevator, T0, { fault_code: 12 }, 1), T0);
    const { alarms, detectors, lastSeen } = partition.snapshot();
    return {
      version: SNAPSHOT_VERSION, alarms, detectors, lastSeen,
      offline: [`SS-${plot}`],
      outOfService: [elevator],
      feederRoots: [[`SS-${plot}/F1`, { alarmId: `SS-${plot}:substation.feeder-outage-1`, clearedAt: null }]],
      floods: [[plot, { raisedAt: [T0], since: T0 }]],
      balances: [[`WM-${plot}-INLET:water.balance`, { inlet: null, hours: {}, judgedThrough: T0 }]],
      balanceMeters: [[`WM-${plot}-01-0101:water.balance`, { ts: T0, value: 100, since: T0, partial: 0 }]],
    };
  };

  it('keeps every field of every snapshot, and restores into one engine holding both', () => {
    const parts = [everyField('A'), everyField('B')];
    const merged = AlarmEngine.merge(parts);
    expect(Object.keys(merged).sort()).toEqual(Object.keys(parts[0]!).sort());
    expect(merged.version).toBe(SNAPSHOT_VERSION);
    for (const field of Object.keys(parts[0]!).filter((f): f is Exclude<keyof EngineSnapshot, 'version'> => f !== 'version')) {
      const entries = parts.map((p) => p[field] as readonly unknown[]);
      expect(entries.every((e) => e.length > 0), `the fixture sets ${field}`).toBe(true);
      expect(merged[field], field).toEqual(entries.flat());
    }
    expect(engine.restore(merged, T0)).toEqual({ ok: true });
    expect(engine.snapshot()).toEqual(merged);
  });

  it('of none is the empty snapshot', () => {
    const empty = AlarmEngine.merge([]);
    expect(empty).toEqual(newEngine().snapshot());
    expect(engine.restore(empty, T0)).toEqual({ ok: true });
  });
});
