import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import { statusOf } from '../errors.ts';
import type { ApiError } from '../routes/api-types.ts';

/** Every error response has the ApiError shape: { statusCode, code, message }. */
export default fp(async (app) => {
  app.setErrorHandler<FastifyError>((error, request, reply) => {
    let body: ApiError;
    const known = statusOf(error.code);
    if (known !== undefined) {
      // AppError and the adapters' own coded errors (e.g. a bad cursor) alike.
      body = { statusCode: known, code: error.code, message: error.message };
    } else if (error.validation) {
      body = { statusCode: 400, code: 'VALIDATION_FAILED', message: error.message };
    } else if (error.statusCode !== undefined && error.statusCode < 500) {
      body = { statusCode: error.statusCode, code: error.code ?? 'BAD_REQUEST', message: error.message };
    } else {
      request.log.error({ err: error }, 'request failed');
      body = { statusCode: 500, code: 'INTERNAL', message: 'Internal error; see the server log' };
    }
    return reply.code(body.statusCode).send(body);
  });
}, { name: 'errors' });
