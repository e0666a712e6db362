/**
 * Two server instances on one PostgreSQL raising the same incident make
 * exactly one ticket: the partial unique index decides, the loser attaches.
 * Each "instance" is its own connection pool and ticket service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, IN_MEMORY, type Database } from '../../server/src/adapters/sql/database.ts';
import { TicketRepository } from '../../server/src/adapters/sql/ticket-repository.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { loadStaff } from '../../server/src/catalogue/staff.ts';
import { applyCondition, newAlarm } from '../../server/src/domain/alarms/alarm-state.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import { TicketService } from '../../server/src/services/tickets.ts';
import { TEST_DATABASE_URL } from '../support/databases.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

describe.runIf(TEST_DATABASE_URL)('two instances on one PostgreSQL', () => {
  const site = indexSite(loadSite(null));
  const staff = loadStaff(site);
  const clock = { now: () => atLocal('2025-05-06', 10 * 60, 'Asia/Shanghai') };
  let temp: TempDatabase;
  const databases: Database[] = [];
  const services: TicketService[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    temp = await createTempDatabase(TEST_DATABASE_URL!);
    for (let i = 0; i < 2; i++) {
      const database = await openDatabase({ url: temp.url, dataDir: IN_MEMORY });
      databases.push(database);
      const repository = new TicketRepository(database);
      await repository.seedStaff(staff);
      services.push(new TicketService({ repository, site, staff, clock, onError: (error) => errors.push(error) }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of databases) await d.close();
    await temp?.drop();
  });

  it('both see every alarm; each root cause gets exactly one ticket with every alarm attached', async () => {
    const pumps = site.site.devices.filter((d) => d.kind === 'booster-pump' || d.kind === 'elevator').slice(0, 12);
    await Promise.all(pumps.map(async (device) => {
      const subject = { deviceId: device.id, ruleId: 'device.offline', kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority: 3 as const, ticket: 'maintenance' as const, title: { en: 'Device offline', zh: '设备离线' } };
      const { effects } = applyCondition(newAlarm(subject), 'active', clock.now());
      // The same stored effects reach both instances at the same moment.
      await Promise.all(services.map((s) => s.onAlarmEffects(effects)));
    }));
    expect(errors).toEqual([]);
    const tickets = await services[0]!.repository.all();
    expect(tickets).toHaveLength(pumps.length);
    expect(new Set(tickets.map((t) => t.rootCauseKey)).size).toBe(pumps.length);
    for (const ticket of tickets) {
      expect(await services[1]!.repository.alarmsOf(ticket.id)).toHaveLength(1);
      expect((await services[1]!.repository.events(ticket.id)).filter((e) => e.action === 'create')).toHaveLength(1);
    }
  });

  it('two operators changing one ticket from the same version: one wins, the other is told it is stale', async () => {
    const [ticket] = await services[0]!.repository.all();
    const operator = (n: number) => ({ username: `operator-${n}`, role: 'operator' as const });
    const outcomes = await Promise.allSettled([
      services[0]!.command(ticket!.id, { action: 'assign', assignee: 'zhao.gang' }, ticket!.version, operator(1)),
      services[1]!.command(ticket!.id, { action: 'assign', assignee: 'wu.hao' }, ticket!.version, operator(2)),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'TICKET_STALE_VERSION' });
    expect((await services[0]!.repository.require(ticket!.id)).version).toBe(ticket!.version + 1);
  });
});
