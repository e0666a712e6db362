import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ANY_ROLE } from '../auth/roles.ts';

const Query = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { additionalProperties: false });

/** GET /api/ingest/dead-letters: the most recent rejected messages, newest first, with their reasons. */
const deadLetterRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: Static<typeof Query> }>('/api/ingest/dead-letters', { schema: { querystring: Query }, config: { allow: ANY_ROLE } }, async (request) => {
    // Rejections still queued for writing are written first, so the list is never behind the counters.
    await app.ingest.deadLetterWriter.drain();
    return app.ingest.deadLetters.list({ limit: request.query.limit, cursor: request.query.cursor ?? null });
  });
};

export default deadLetterRoutes;
