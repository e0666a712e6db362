import fp from 'fastify-plugin';
import type { Config } from '../config/config.ts';
import type { Clock } from '../ports/clock.ts';

declare module 'fastify' {
  interface FastifyInstance { config: Config; clock: Clock }
}

/** The configuration and the clock, which every other plugin reads. */
export const configPlugin = fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('config', config);
}, { name: 'config' });

export const clockPlugin = fp<{ clock: Clock }>(async (app, { clock }) => {
  app.decorate('clock', clock);
}, { name: 'clock' });
