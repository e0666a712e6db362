import fp from 'fastify-plugin';

/**
 * Alarm → ticket: every stored batch of alarm effects goes to the ticket
 * service (open, attach, reopen, track normal), and maintenance tickets take
 * their device out of service in the alarm engine while they are open (and
 * again whenever a partition's engine is restored).
 */
export default fp(async (app) => {
  app.tickets.useOutOfService((deviceId, on) => { app.alarms.setOutOfService(deviceId, on); });
  // A partition's new owner (or a start without a snapshot) rebuilds the switch from the tickets.
  app.alarms.useOutOfServiceSource(() => app.tickets.devicesOutOfService());
  // A raised alarm's look-ups start while it is being stored; its ticket is written once it is stored.
  const stopPreparing = app.alarms.subscribeStoring((effects) => { app.tickets.prepareAlarmEffects(effects); });
  const unsubscribe = app.alarms.subscribe((effects) => { void app.tickets.onAlarmEffects(effects); });
  app.addHook('preClose', async () => {
    stopPreparing();
    unsubscribe();
  });
}, { name: 'alarm-tickets', dependencies: ['alarms', 'tickets'] });
