/** The ticket audit trail is append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused. On PGlite, and on PostgreSQL when TEST_DATABASE_URL is set. */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENGINES, type TestDatabase } from '../support/databases.ts';

// PGlite answers { rows }, postgres-js the rows themselves.
const rowsOf = (result: unknown): Record<string, unknown>[] => (Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows);

for (const { engine, open } of TEST_ENGINES) {
  describe(`ticket_events on ${engine}`, () => {
    let test: TestDatabase;
    let ticketId: number;
    beforeAll(async () => {
      test = await open();
      const { db } = test.database;
      const now = '2025-05-06T02:00:00.000Z';
      const [ticket] = rowsOf(await db.execute(sql`
        INSERT INTO tickets (kind, priority, status, source, title, created_by, created_at, updated_at,
                             due_acknowledge_at, due_on_site_at, due_resolve_at)
        VALUES ('maintenance', 2, 'open', 'alarm', 'Pump trips', 'test', ${now}, ${now}, ${now}, ${now}, ${now})
        RETURNING id`));
      ticketId = Number(ticket!.id);
      await db.execute(sql`INSERT INTO ticket_events (ticket_id, at, by, action, to_status) VALUES (${ticketId}, ${now}, 'test', 'create', 'open')`);
    });
    afterAll(() => test?.cleanup());

    const events = async () => rowsOf(await test.database.db.execute(sql`SELECT action, note FROM ticket_events WHERE ticket_id = ${ticketId} ORDER BY id`));

    it('accepts new events', async () => {
      await test.database.db.execute(sql`INSERT INTO ticket_events (ticket_id, at, by, action, to_status, note) VALUES (${ticketId}, now(), 'test', 'comment', 'open', 'second')`);
      expect(await events()).toEqual([{ action: 'create', note: '' }, { action: 'comment', note: 'second' }]);
    });

    it.each([
      ['UPDATE', sql`UPDATE ticket_events SET note = 'rewritten'`],
      ['DELETE', sql`DELETE FROM ticket_events`],
      ['TRUNCATE', sql`TRUNCATE ticket_events`],
    ])('refuses %s and keeps every event', async (operation, statement) => {
      const error = await test.database.db.execute(statement).then(() => null, (e: Error) => e);
      // drizzle wraps the driver's error; the database's own message is the cause.
      expect((error?.cause as Error | undefined)?.message).toBe(`ticket_events is append-only: ${operation} is not allowed`);
      expect(await events()).toHaveLength(2);
    });
  });
}
