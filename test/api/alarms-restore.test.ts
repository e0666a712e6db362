/**
 * The alarms table alone is enough to restore the engine's alarms: after a
 * crash that lost the engine's snapshot, an active alarm comes back from its
 * row, and new readings update that row instead of adding one. The detectors
 * start afresh, but a resuming detector neither clears the alarm while its
 * on-delay runs nor raises it a second time (engine.restore).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/adapters/sql/database.ts';
import { alarmEngineState } from '../../server/src/adapters/sql/schema.ts';
import type { AlarmDetailView, AlarmView, Page } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';

const MINUTE = 60_000;
const ID = 'HY-C-02:hydrant.pressure-low';
let tempDir: string;
let server: TestServer | undefined;

beforeAll(async () => { tempDir = await mkdtemp(path.join(tmpdir(), 'ew-alarms-restore-')); });
afterAll(async () => {
  await server?.close();
  await rm(tempDir, { recursive: true, force: true });
});

async function lowPressure(minutesAgo: readonly number[]): Promise<void> {
  const client = await mqtt.connectAsync(server!.app.broker.url, { clientId: `alarm-restore-${process.pid}`, ...server!.mqttCredentials('HY-C-02') });
  for (const ago of minutesAgo) {
    const ts = Date.now() - ago * MINUTE;
    await client.publishAsync(`estate/blue-valley/C/hydrant/HY-C-02/telemetry`, JSON.stringify({ v: 1, ts, seq: ago, m: { pressure_mpa: 0.06 } }), { qos: 1 });
  }
  await client.endAsync();
}

it('restores an active alarm from the alarms table when the snapshot is gone, and keeps one row for it', async () => {
  const env = { DATA_DIR: path.join(tempDir, 'data') };
  server = await startTestServer(env);
  await lowPressure([40, 28]);
  await eventually(async () => ((await server!.request({ url: `/api/alarms?device=HY-C-02` })).json() as Page<AlarmView>).total === 1 || undefined, 10_000, 'the alarm');
  await server.close();
  server = undefined;

  const database = await openDatabase({ url: null, dataDir: env.DATA_DIR });
  await database.db.delete(alarmEngineState);
  await database.close();

  server = await startTestServer(env);
  expect(server.app.alarms.engine.alarm(ID)).toMatchObject({ state: 'unack', count: 1 });
  await lowPressure([20, 5]);
  await eventually(async () => ((await server!.request({ url: '/api/devices/HY-C-02' })).json() as { state: { ts: number | null } }).state.ts! > Date.now() - 6 * MINUTE || undefined, 10_000, 'the new readings');
  await server.app.alarms.flush();
  const listed = (await server.request({ url: '/api/alarms?activeOnly=false&device=HY-C-02' })).json() as Page<AlarmView>;
  expect(listed.items.map((a) => [a.id, a.state, a.count])).toEqual([[ID, 'unack', 1]]);
  const detail = (await server.request({ url: `/api/alarms/${ID}` })).json() as AlarmDetailView;
  expect(detail.events.map((e) => e.type)).toEqual(['alarm-raised']);
  expect(detail.events.at(-1)).toMatchObject({ type: 'alarm-raised', at: detail.firstActiveAt });
  // Two servers start on a fresh PGlite folder (a first start migrates it): slow on a busy machine.
}, 90_000);
