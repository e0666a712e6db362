import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Principal } from '../auth/auth-service.ts';
import { PASSWORD_MAX_LENGTH } from '../auth/passwords.ts';
import { ROLES } from '../auth/roles.ts';
import type { AuthEventView, UserView } from './api-types.ts';

const ADMIN = ['admin'] as const;
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Username = Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'letters, digits, . _ -' });
const DisplayName = Type.String({ minLength: 1, maxLength: 100 });
const PlotId = Type.Union([Type.String({ minLength: 1, maxLength: 16 }), Type.Null()]);
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH });

const CreateBody = Type.Object({
  username: Username,
  displayName: DisplayName,
  role: Role,
  plotId: Type.Optional(PlotId),
  password: Password,
}, { additionalProperties: false });

const UpdateBody = Type.Object({
  displayName: Type.Optional(DisplayName),
  role: Type.Optional(Role),
  plotId: Type.Optional(PlotId),
  disabled: Type.Optional(Type.Boolean()),
  /** An admin's password reset; the user's sessions end. */
  password: Type.Optional(Password),
}, { additionalProperties: false, minProperties: 1 });

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

const EventsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { additionalProperties: false });

/** Admin only: GET/POST /api/users, PATCH /api/users/:id, GET /api/auth/events (the security audit log). */
const userRoutes: FastifyPluginAsync = async (app) => {
  const actor = (principal: Principal | null): Principal => {
    if (principal === null) throw new Error('admin route without a principal');
    return principal;
  };

  app.get('/api/users', { config: { allow: ADMIN } }, async () => {
    const users: UserView[] = await app.auth.service.listUsers();
    return users;
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/api/users', { schema: { body: CreateBody }, config: { allow: ADMIN } }, async (request, reply) => {
    const { plotId = null, ...rest } = request.body;
    const user = await app.auth.service.createUser(actor(request.principal), { ...rest, plotId }, app.auth.clientOf(request));
    return reply.code(201).send(user);
  });

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof UpdateBody> }>(
    '/api/users/:id',
    { schema: { params: IdParams, body: UpdateBody }, config: { allow: ADMIN } },
    async (request) => app.auth.service.updateUser(actor(request.principal), request.params.id, request.body, app.auth.clientOf(request)),
  );

  app.get<{ Querystring: Static<typeof EventsQuery> }>('/api/auth/events', { schema: { querystring: EventsQuery }, config: { allow: ADMIN } }, async (request) => {
    const events: AuthEventView[] = await app.auth.service.events(request.query);
    return events;
  });
};

export default userRoutes;
