/** The dead-letter table: batches in, newest first out, counts by reason. On PGlite, and on PostgreSQL when TEST_DATABASE_URL is set. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_PAYLOAD_BYTES, DeadLetterRepository, type DeadLetterInput } from '../../server/src/adapters/sql/dead-letter-repository.ts';
import { TEST_ENGINES, type TestDatabase } from '../support/databases.ts';

const T0 = Date.UTC(2025, 0, 1);
const entry = (i: number, reason: string, at = T0 + i * 1_000): DeadLetterInput => ({
  receivedAt: new Date(at),
  topic: `estate/bv/A/pump/P-${i}/telemetry`,
  payload: `{"bad":${i}`,
  payloadTruncated: false,
  reason,
  detail: `entry ${i}`,
});

for (const { engine, open } of TEST_ENGINES) {
  describe(`DeadLetterRepository on ${engine}`, () => {
    let test: TestDatabase;
    let repo: DeadLetterRepository;
    beforeAll(async () => {
      test = await open();
      repo = new DeadLetterRepository(test.database);
      // 7 entries; entries 5 and 6 share a receivedAt, so the page order must fall back on insertion order.
      await repo.add([0, 1, 2, 3, 4].map((i) => entry(i, i % 2 === 0 ? 'not-json' : 'unknown-device')));
      await repo.add([entry(5, 'bad-ts', T0 + 10_000), entry(6, 'bad-ts', T0 + 10_000)]);
      await repo.add([]);
    });
    afterAll(() => test?.cleanup());

    it('lists newest first and pages with a cursor until the end', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await repo.list({ limit: 3, cursor });
        seen.push(...page.items.map((d) => d.detail));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(seen).toEqual(['entry 6', 'entry 5', 'entry 4', 'entry 3', 'entry 2', 'entry 1', 'entry 0']);
      expect(pages).toBe(3);
    });

    it('returns entries as they were given', async () => {
      const { items, nextCursor } = await repo.list({ limit: 1 });
      expect(items).toEqual([{ id: expect.any(Number), ...entry(6, 'bad-ts', T0 + 10_000) }]);
      expect(nextCursor).toEqual(expect.any(String));
    });

    it('counts by reason', async () => {
      expect(await repo.countsByReason()).toEqual({ 'not-json': 3, 'unknown-device': 2, 'bad-ts': 2 });
    });

    it('rejects a cursor it did not make', async () => {
      await expect(repo.list({ cursor: 'drop table' })).rejects.toMatchObject({ code: 'DEAD_LETTER_CURSOR_INVALID' });
    });

    it('stores any payload: NUL characters replaced, oversized ones cut on a character boundary and marked', async () => {
      const own = await open();
      try {
        const ownRepo = new DeadLetterRepository(own.database);
        const long = 'é'.repeat(DEAD_LETTER_PAYLOAD_BYTES); // 2 bytes each
        await ownRepo.add([
          { ...entry(1, 'not-json'), payload: 'a\u0000b' },
          { ...entry(2, 'too-big'), payload: long },
          { ...entry(3, 'too-big'), payload: 'cut by the caller', payloadTruncated: true },
        ]);
        const { items } = await ownRepo.list();
        const byDetail = Object.fromEntries(items.map((d) => [d.detail, d]));
        expect(byDetail['entry 1']).toMatchObject({ payload: 'a\uFFFDb', payloadTruncated: false });
        expect(byDetail['entry 2']).toMatchObject({ payload: 'é'.repeat(DEAD_LETTER_PAYLOAD_BYTES / 2), payloadTruncated: true });
        expect(byDetail['entry 3']).toMatchObject({ payload: 'cut by the caller', payloadTruncated: true });
      } finally {
        await own.cleanup();
      }
    });
  });
}
