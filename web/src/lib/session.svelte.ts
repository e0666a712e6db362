/**
 * Who is logged in. Checks the session cookie with GET /api/auth/me, logs in
 * and out, and gives the rest of the app a fetch that sends the session's
 * CSRF token on every state-changing request and turns a 401 into "session
 * expired: back to the login page".
 */
import type { ApiError, SessionView } from '../../../server/src/routes/api-types.ts';
import type { FetchFn } from './api.ts';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type SessionState =
  | { readonly kind: 'checking' }
  /** reason: why the login page shows (null on a first visit). */
  | { readonly kind: 'anonymous'; readonly reason: 'expired' | 'logged-out' | null }
  | { readonly kind: 'active'; readonly view: SessionView };

export type LoginResult = { ok: true } | { ok: false; code: string; retryAfterS: number | null };

export class SessionStore {
  state = $state.raw<SessionState>({ kind: 'checking' });

  readonly #fetch: FetchFn;
  readonly #listeners = new Set<(state: SessionState) => void>();

  constructor(fetchFn: FetchFn) {
    this.#fetch = fetchFn;
  }

  /** Called on every change of state (main.ts connects and disconnects the socket). */
  subscribe(listener: (state: SessionState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(state: SessionState): void {
    this.state = state;
    for (const listener of this.#listeners) listener(state);
  }

  get csrfToken(): string | null {
    return this.state.kind === 'active' ? this.state.view.csrfToken : null;
  }

  async check(): Promise<void> {
    try {
      const response = await this.#fetch('/api/auth/me', { headers: { accept: 'application/json' } });
      if (response.ok) this.#set({ kind: 'active', view: (await response.json()) as SessionView });
      else this.#set({ kind: 'anonymous', reason: this.state.kind === 'active' ? 'expired' : null });
    } catch {
      // Offline: keep what we know; the next request will tell.
      if (this.state.kind === 'checking') this.#set({ kind: 'anonymous', reason: null });
    }
  }

  async login(username: string, password: string): Promise<LoginResult> {
    let response: Response;
    try {
      response = await this.#fetch('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    } catch {
      return { ok: false, code: 'NETWORK', retryAfterS: null };
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as ApiError | null;
      const retryAfter = Number(response.headers.get('retry-after'));
      return { ok: false, code: body?.code ?? `HTTP_${response.status}`, retryAfterS: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null };
    }
    this.#set({ kind: 'active', view: (await response.json()) as SessionView });
    return { ok: true };
  }

  async logout(): Promise<void> {
    await this.fetch('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
    this.#set({ kind: 'anonymous', reason: 'logged-out' });
  }

  /** The server said 401: the session is gone (expired, logged out elsewhere, account disabled). */
  expired(): void {
    if (this.state.kind === 'active') this.#set({ kind: 'anonymous', reason: 'expired' });
  }

  /** fetch for API calls: the CSRF header on state-changing requests, and 401 → expired(). */
  readonly fetch: FetchFn = async (input, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const token = this.csrfToken;
    const headers = new Headers(init.headers);
    if (!SAFE_METHODS.has(method) && token !== null) headers.set(CSRF_HEADER, token);
    const response = await this.#fetch(input, { ...init, headers });
    if (response.status === 401) this.expired();
    return response;
  };
}
