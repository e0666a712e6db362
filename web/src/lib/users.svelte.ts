/**
 * User administration (admin) and one's own password change (everyone):
 * the client-side checks of the forms, and the requests to /api/users and
 * PUT /api/auth/password. The server checks everything again.
 */
import type { Role } from '../../../server/src/auth/roles.ts';
import type { UserView } from '../../../server/src/routes/api-types.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

/** The server's PASSWORD_MIN_LENGTH/MAX_LENGTH (server/src/auth/passwords.ts uses node:crypto, so not imported). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 200;
/** The server's username pattern (server/src/routes/users.ts). */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export type PasswordProblem = 'missing' | 'tooShort' | 'tooLong' | 'mismatch';

/** Why the new password cannot be sent yet, or null. */
export function newPasswordProblem(current: string, next: string, repeat: string): PasswordProblem | null {
  if (current === '' || next === '') return 'missing';
  if (next.length < PASSWORD_MIN_LENGTH) return 'tooShort';
  if (next.length > PASSWORD_MAX_LENGTH) return 'tooLong';
  if (next !== repeat) return 'mismatch';
  return null;
}

export interface NewUserForm {
  username: string;
  displayName: string;
  role: Role;
  /** Only patrol officers have a plot (their zone). */
  plotId: string;
  password: string;
}

export type NewUserProblem = 'badUsername' | 'displayNameRequired' | 'plotRequired' | 'tooShort' | 'tooLong';

export function newUserProblem(form: NewUserForm): NewUserProblem | null {
  if (!USERNAME.test(form.username.trim())) return 'badUsername';
  if (form.displayName.trim() === '') return 'displayNameRequired';
  if (form.role === 'patrol-officer' && form.plotId === '') return 'plotRequired';
  if (form.password.length < PASSWORD_MIN_LENGTH) return 'tooShort';
  if (form.password.length > PASSWORD_MAX_LENGTH) return 'tooLong';
  return null;
}

/** A JSON request that answers with the server's error code and message instead of throwing. */
async function send<T>(fetchFn: FetchFn, method: 'POST' | 'PATCH' | 'PUT', url: string, body: object): Promise<Outcome<T>> {
  let response: Response;
  try {
    response = await fetchFn(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    return { ok: false, code: 'NETWORK', message: err instanceof Error ? err.message : String(err) };
  }
  const answer: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const e = answer as { code?: string; message?: string } | null;
    return { ok: false, code: e?.code ?? `HTTP_${response.status}`, message: e?.message ?? '' };
  }
  return { ok: true, value: answer as T };
}

/** PUT /api/auth/password: one's own password; the user's other sessions end. */
export function changePassword(fetchFn: FetchFn, currentPassword: string, newPassword: string): Promise<Outcome<null>> {
  return send<null>(fetchFn, 'PUT', '/api/auth/password', { currentPassword, newPassword });
}

export type UserPatch = Partial<Pick<UserView, 'displayName' | 'role' | 'plotId' | 'disabled'>>;

export class UsersStore {
  users = $state.raw<readonly UserView[]>([]);
  loaded = $state(false);
  /** The list's load error code, or null. */
  error = $state<string | null>(null);

  readonly #fetch: FetchFn;

  constructor(fetchFn: FetchFn) {
    this.#fetch = fetchFn;
  }

  async fetch(): Promise<void> {
    try {
      const users = await getJson<UserView[]>(this.#fetch, '/api/users');
      this.users = [...users].sort((a, b) => a.username.localeCompare(b.username));
      this.error = null;
    } catch (err) {
      this.error = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
    }
    this.loaded = true;
  }

  async create(form: NewUserForm): Promise<Outcome<UserView>> {
    const body = {
      username: form.username.trim(),
      displayName: form.displayName.trim(),
      role: form.role,
      plotId: form.role === 'patrol-officer' ? form.plotId : null,
      password: form.password,
    };
    const result = await send<UserView>(this.#fetch, 'POST', '/api/users', body);
    if (result.ok) this.#put(result.value);
    return result;
  }

  /** A role change outside patrol clears the plot: only patrol officers have a zone. */
  async update(id: number, patch: UserPatch): Promise<Outcome<UserView>> {
    const body = patch.role !== undefined && patch.role !== 'patrol-officer' ? { ...patch, plotId: null } : patch;
    const result = await send<UserView>(this.#fetch, 'PATCH', `/api/users/${id}`, body);
    if (result.ok) this.#put(result.value);
    return result;
  }

  #put(user: UserView): void {
    this.users = [...this.users.filter((u) => u.id !== user.id), user].sort((a, b) => a.username.localeCompare(b.username));
  }
}
