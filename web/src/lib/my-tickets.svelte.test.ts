import { describe, expect, it } from 'vitest';
import type { TicketView } from '../../../server/src/routes/api-types.ts';
import { compareTickets, MyTickets, nextAction } from './my-tickets.svelte.ts';

function ticket(id: number, over: Partial<TicketView> = {}): TicketView {
  return {
    id, kind: 'maintenance', priority: 3, status: 'assigned', source: 'alarm', major: false, confidential: false, title: `T${id}`, description: '',
    plotId: 'A', buildingId: 'A-01', unitId: null, deviceId: null, location: '', rootCauseKey: null, assignee: 'tech', createdBy: 'x',
    createdAt: 0, updatedAt: 0, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, dueAcknowledgeAt: 0, dueOnSiteAt: 0,
    dueResolveAt: 1000, neededBy: null, callbackPhone: null, letterDueAt: null, handedOverAt: null, handedOverTo: null, reply: null,
    repliedBy: null, repliedAt: null, escalations: [], reopenCount: 0, version: 1, redacted: false, titles: null, sla: [],
    ...over,
  };
}

describe('nextAction', () => {
  it.each([
    [{ status: 'assigned', acknowledgedAt: null }, 'accept'],
    [{ status: 'assigned', acknowledgedAt: 5 }, 'start'],
    [{ status: 'in-progress', acknowledgedAt: 5 }, 'resolve'],
    [{ status: 'resolved', acknowledgedAt: 5 }, null],
    [{ status: 'open', acknowledgedAt: null }, null],
  ] as const)('%o → %s', (t, action) => {
    expect(nextAction(t)).toBe(action);
  });
});

describe('MyTickets', () => {
  it('orders by priority then deadline, keeps only my open tickets live and chimes for a new assignment only', () => {
    let chimes = 0;
    const store = new MyTickets(async () => new Response('{}'), () => 'tech', () => { chimes += 1; });
    store.apply(ticket(1, { priority: 3 }));
    store.apply(ticket(2, { priority: 1, dueResolveAt: 5000 }));
    store.apply(ticket(3, { priority: 1, dueResolveAt: 2000 }));
    expect(store.tickets.map((t) => t.id)).toEqual([3, 2, 1]);
    expect(chimes).toBe(3);
    store.apply(ticket(3, { status: 'in-progress', version: 2 }));
    expect(chimes).toBe(3);
    store.apply(ticket(3, { status: 'assigned', version: 1 })); // an older push never wins
    expect(store.tickets.find((t) => t.id === 3)!.status).toBe('in-progress');
    store.apply(ticket(2, { assignee: 'someone-else', version: 2 }));
    store.apply(ticket(1, { status: 'resolved', version: 2 }));
    expect(store.tickets.map((t) => t.id)).toEqual([3]);
    expect([ticket(2, { priority: 2 }), ticket(1, { priority: 2, dueResolveAt: 1 })].sort(compareTickets).map((t) => t.id)).toEqual([1, 2]);
  });

  it('acts with the version it shows, and reloads on a conflict', async () => {
    const urls: string[] = [];
    const bodies: unknown[] = [];
    const responses = [
      Response.json({ code: 'TICKET_STALE_VERSION', message: 'changed' }, { status: 409 }),
      Response.json({ items: [ticket(7, { version: 4, acknowledgedAt: 1 })], total: 1, limit: 200, offset: 0 }),
    ];
    const store = new MyTickets(async (url, init) => { urls.push(url); bodies.push(init?.body); return responses.shift()!; }, () => 'tech');
    const result = await store.act(ticket(7, { version: 3 }), 'accept');
    expect(result).toEqual({ ok: false, code: 'TICKET_STALE_VERSION' });
    expect(urls).toEqual(['/api/tickets/7/accept', '/api/tickets?assignee=tech&status=open&limit=200']);
    expect(JSON.parse(String(bodies[0]))).toEqual({ version: 3 });
    expect(store.current?.version).toBe(4);
  });
});
