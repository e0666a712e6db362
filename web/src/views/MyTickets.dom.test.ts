import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TicketView } from '../../../server/src/routes/api-types.ts';
import { I18n } from '../lib/i18n.svelte.ts';
import { MyTickets as MyTicketsStore } from '../lib/my-tickets.svelte.ts';
import { buildSiteModel } from '../lib/site-model.ts';
import { DEVICES, SITE } from '../lib/testing/fixtures.ts';
import MyTickets from './MyTickets.svelte';

function ticket(id: number, over: Partial<TicketView> = {}): TicketView {
  return {
    id, kind: 'maintenance', priority: 2, status: 'in-progress', source: 'alarm', major: false, confidential: false, title: `Lift ${id} stuck`, description: '',
    plotId: 'A', buildingId: 'A-01', unitId: null, deviceId: 'EL-A-01-1', location: '', rootCauseKey: null, assignee: 'tech', createdBy: 'x',
    createdAt: 0, updatedAt: 0, acknowledgedAt: 1, onSiteAt: 2, resolvedAt: null, closedAt: null, dueAcknowledgeAt: 0, dueOnSiteAt: 0,
    dueResolveAt: Date.parse('2026-01-10T08:00:00Z'), neededBy: null, callbackPhone: null, letterDueAt: null, handedOverAt: null, handedOverTo: null,
    reply: null, repliedBy: null, repliedAt: null, escalations: [], reopenCount: 0, version: 3, redacted: false, titles: null, sla: [],
    ...over,
  };
}

let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  document.body.innerHTML = '';
});

function english(): I18n {
  const i18n = new I18n();
  i18n.setLang('en');
  return i18n;
}

function render(store: MyTicketsStore, now = Date.parse('2026-01-10T07:00:00Z'), i18n = english()): HTMLElement {
  const target = document.body.appendChild(document.createElement('div'));
  mounted = mount(MyTickets, { target, props: { store, model: buildSiteModel(SITE, DEVICES), i18n, now } });
  flushSync();
  return target;
}

describe('MyTickets view', () => {
  it("shows the most urgent ticket with where it is on the map, and resolves it only with a note", async () => {
    const posted: { url: string; body: unknown }[] = [];
    const store = new MyTicketsStore(async (url, init) => {
      posted.push({ url, body: JSON.parse(String(init?.body)) });
      return Response.json(ticket(7, { status: 'resolved', version: 4 }));
    }, () => 'tech');
    store.apply(ticket(8, { priority: 3, buildingId: 'A-02', deviceId: null }));
    store.apply(ticket(7));
    store.load = { kind: 'ready' };
    const root = render(store);

    const card = root.querySelector<HTMLElement>('article.ticket')!;
    expect(card.dataset.ticketId).toBe('7');
    expect(card.querySelector('svg.location g.building.target')!.getAttribute('data-building-id')).toBe('A-01');
    expect(root.textContent).toContain('1 of 2');
    const act = root.querySelector<HTMLButtonElement>('button.act')!;
    expect(act.textContent).toBe('Resolve');

    act.click();
    flushSync();
    expect(root.querySelector('.thumb [role=alert]')!.textContent).toBe('Resolving needs a note.');
    expect(posted).toEqual([]);

    const note = root.querySelector<HTMLTextAreaElement>('textarea')!;
    note.value = 'Reset the door controller';
    note.dispatchEvent(new Event('input', { bubbles: true }));
    act.click();
    // Resolved: off my list; the other ticket and its building come up.
    await vi.waitFor(() => expect(root.querySelector<HTMLElement>('article.ticket')!.dataset.ticketId).toBe('8'));
    flushSync();
    expect(posted).toEqual([{ url: '/api/tickets/7/resolve', body: { version: 3, note: 'Reset the door controller' } }]);
    expect(root.querySelector('svg.location g.building.target')!.getAttribute('data-building-id')).toBe('A-02');
    expect(root.querySelector('button.act')!.textContent).toBe('Resolve');
  });

  it("shows an alarm ticket's device by its name in the viewer's language, and a typed location as written", () => {
    const store = new MyTicketsStore(async () => Response.json({}), () => 'tech');
    store.apply(ticket(7, { location: 'Elevator A-01 #1' }));
    store.load = { kind: 'ready' };
    const where = () => root.querySelector('article.ticket .where')!.textContent;
    const chinese = new I18n();
    chinese.setLang('zh');
    let root = render(store, undefined, chinese);
    expect(where()).toContain('EL-A-01-1 · 电梯 A-01 1 号');
    unmount(mounted!);
    root = render(store);
    expect(where()).toContain('EL-A-01-1 · Elevator A-01 #1');
    unmount(mounted!);
    store.apply(ticket(7, { location: 'Behind the lift, by the bins' }));
    root = render(store, undefined, chinese);
    expect(where()).toContain('· Behind the lift, by the bins');
  });

  it("shows a title the system wrote in the viewer's language, and a typed one as written", () => {
    const store = new MyTicketsStore(async () => Response.json({}), () => 'tech');
    const written = { en: 'Elevator controller reports a fault code', zh: '电梯控制器报告故障代码' };
    store.apply(ticket(7, { title: written.en, titles: written }));
    store.apply(ticket(8, { priority: 3, kind: 'reception', source: 'phone', title: 'Kitchen tap dripping', titles: null }));
    store.load = { kind: 'ready' };
    const i18n = new I18n();
    i18n.setLang('zh');
    const root = render(store, undefined, i18n);
    const heading = () => root.querySelector('article.ticket h3')!.textContent;
    expect(heading()).toBe(written.zh);
    i18n.setLang('en');
    flushSync();
    expect(heading()).toBe(written.en);

    store.step(1);
    flushSync();
    expect(heading()).toBe('Kitchen tap dripping');
    i18n.setLang('zh');
    flushSync();
    expect(heading()).toBe('Kitchen tap dripping');
  });

  it('says when a ticket is late, and when there is nothing to do', () => {
    const store = new MyTicketsStore(async () => Response.json({}), () => 'tech');
    store.apply(ticket(7, { status: 'assigned', acknowledgedAt: null }));
    store.load = { kind: 'ready' };
    let root = render(store, Date.parse('2026-01-10T09:00:00Z'));
    expect(root.querySelector('.due')!.textContent).toContain('overdue');
    expect(root.querySelector('button.act')!.textContent).toBe('Accept');
    unmount(mounted!);

    store.apply(ticket(7, { status: 'cancelled', version: 9 }));
    root = render(store);
    expect(root.querySelector('article')).toBeNull();
    expect(root.textContent).toContain('No tickets assigned to me.');
  });
});
