/**
 * Accounts and sessions: login with lock-out, session tokens (only their hash
 * is stored), CSRF tokens, password changes, user administration, the audit
 * log, and the first-start accounts. Routes and the socket.io handshake go
 * through here; nothing else touches the auth tables.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthRepository, UserPatch, UserRow } from '../adapters/sql/auth-repository.ts';
import { UsernameTakenError } from '../adapters/sql/auth-repository.ts';
import { AppError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { AuthEventView, SessionView, UserView } from '../routes/api-types.ts';
import { LoginThrottle } from './login-throttle.ts';
import { burnPasswordTime, generatePassword, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.ts';
import { ROLES, type Role } from './roles.ts';

export const ADMIN_USERNAME = 'admin';
/** The published password of the demo accounts: they exist only in the embedded demo (see README). */
export const DEMO_PASSWORD = 'bluevalley-demo';
export const DEMO_PREFIX = 'demo-';
export const demoUsername = (role: Role): string => `${DEMO_PREFIX}${role}`;
/** The demo patrol officer's plot: the site's first. */
export const demoPlotOf = (plots: readonly { readonly id: string }[]): string | null => plots[0]?.id ?? null;

/** The embedded demo: simulated devices on the embedded database (plain `npm start`). Only there do the demo accounts work. */
export function isEmbeddedDemo(config: { readonly simulate: boolean; readonly database: { readonly url: string | null } }): boolean {
  return config.simulate && config.database.url === null;
}

/** A logged-in request or socket. */
export interface Principal {
  user: UserRow;
  /** SHA-256 of the session token: identifies the session without being it. */
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface ClientInfo { address: string; userAgent: string }

/** Why a session ended; push disconnects the sockets concerned. */
export type SessionsEnded = { sessionId: string } | { userId: number };

export interface NewUserInput { username: string; displayName: string; role: Role; plotId: string | null; password: string }

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function userView(user: UserRow): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    plotId: user.plotId,
    disabled: user.disabled,
    demo: user.demo,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    passwordChangedAt: user.passwordChangedAt.toISOString(),
  };
}

export function sessionView(principal: Principal): SessionView {
  return { user: userView(principal.user), csrfToken: principal.csrfToken, expiresAt: principal.expiresAt.toISOString() };
}

export interface AuthServiceOptions {
  repository: AuthRepository;
  clock: Clock;
  sessionTtlMs: number;
  /** Plot ids a user may be given. */
  plots: readonly string[];
  throttle?: LoginThrottle;
}

export class AuthService {
  private readonly repository: AuthRepository;
  private readonly clock: Clock;
  private readonly sessionTtlMs: number;
  private readonly plots: ReadonlySet<string>;
  readonly throttle: LoginThrottle;
  private readonly endedListeners = new Set<(ended: SessionsEnded) => void>();

  constructor(options: AuthServiceOptions) {
    this.repository = options.repository;
    this.clock = options.clock;
    this.sessionTtlMs = options.sessionTtlMs;
    this.plots = new Set(options.plots);
    this.throttle = options.throttle ?? new LoginThrottle(options.clock);
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private audit(type: string, username: string, client: Partial<ClientInfo>, detail: Record<string, unknown> = {}, actor: string | null = null): Promise<void> {
    return this.repository.addEvent({ at: this.now(), type, username: username.toLowerCase().slice(0, 64), actor, address: client.address ?? '', detail });
  }

  /** Called when sessions end (logout, password change, role change, disable). */
  onSessionsEnded(listener: (ended: SessionsEnded) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private ended(ended: SessionsEnded): void {
    for (const listener of this.endedListeners) listener(ended);
  }

  /**
   * Checks the password and opens a new session (a new token every time: a
   * session id planted before login is worthless). Returns the cookie token.
   */
  async login(username: string, password: string, client: ClientInfo, previousToken?: string): Promise<{ token: string; principal: Principal }> {
    const name = username.trim().toLowerCase();
    const verdict = this.throttle.check(name, client.address);
    if (!verdict.allowed) {
      await this.audit('login-locked', name, client, { by: verdict.by, retryAfterS: Math.ceil(verdict.retryAfterMs / 1000) });
      throw Object.assign(
        new AppError('LOGIN_LOCKED', `Too many failed logins; try again in ${Math.ceil(verdict.retryAfterMs / 60_000)} min`),
        { retryAfterS: Math.ceil(verdict.retryAfterMs / 1000) },
      );
    }
    const user = await this.repository.findUser(name);
    const valid = user !== undefined && !user.disabled ? await verifyPassword(password, user.passwordHash) : (await burnPasswordTime(password), false);
    if (!user || !valid) {
      const locked = this.throttle.failed(name, client.address);
      await this.audit('login-failed', name, client, { reason: !user ? 'unknown-user' : user.disabled ? 'disabled' : 'wrong-password', ...(locked.username || locked.address ? { lockedOut: locked } : {}) });
      throw new AppError('LOGIN_FAILED', 'Wrong username or password');
    }
    this.throttle.succeeded(name);
    if (needsRehash(user.passwordHash)) await this.repository.setPassword(user.id, await hashPassword(password), user.passwordChangedAt);
    if (previousToken !== undefined) await this.repository.deleteSession(hashToken(previousToken));

    const token = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const expiresAt = new Date(createdAt.getTime() + this.sessionTtlMs);
    const csrfToken = randomBytes(32).toString('base64url');
    const sessionId = hashToken(token);
    await this.repository.createSession({
      tokenHash: sessionId, userId: user.id, csrfToken, createdAt, expiresAt,
      address: client.address.slice(0, 64), userAgent: client.userAgent.slice(0, 256),
    });
    await this.audit('login', name, client, { role: user.role });
    return { token, principal: { user, sessionId, csrfToken, expiresAt } };
  }

  /** The principal of a session token; 'expired' for a session past its end (which is then deleted). */
  async authenticate(token: string | undefined): Promise<Principal | 'expired' | null> {
    if (token === undefined || token === '' || token.length > 128) return null;
    const sessionId = hashToken(token);
    const found = await this.repository.findSession(sessionId);
    if (!found) return null;
    const { session, user } = found;
    if (session.expiresAt.getTime() <= this.clock.now()) {
      await this.repository.deleteSession(sessionId);
      await this.audit('session-expired', user.username, { address: session.address });
      return 'expired';
    }
    if (user.disabled) return null;
    return { user, sessionId, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  }

  async logout(principal: Principal, client: ClientInfo): Promise<void> {
    await this.repository.deleteSession(principal.sessionId);
    await this.audit('logout', principal.user.username, client);
    this.ended({ sessionId: principal.sessionId });
  }

  /** Changes one's own password; every other session of the user ends. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, client: ClientInfo): Promise<void> {
    const { user } = principal;
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      await this.audit('password-change-failed', user.username, client);
      throw new AppError('PASSWORD_INCORRECT', 'The current password is wrong');
    }
    this.checkPassword(newPassword, user.username);
    await this.repository.setPassword(user.id, await hashPassword(newPassword), this.now());
    await this.repository.deleteSessionsOf(user.id, principal.sessionId);
    await this.audit('password-changed', user.username, client);
    this.ended({ userId: user.id });
  }

  private checkPassword(password: string, username: string): void {
    const problem = passwordProblem(password, username);
    if (problem !== null) throw new AppError('PASSWORD_REJECTED', problem);
  }

  private checkPlot(plotId: string | null | undefined): void {
    if (plotId !== null && plotId !== undefined && !this.plots.has(plotId)) {
      throw new AppError('UNKNOWN_PLOT', `Unknown plot "${plotId}"; plots: ${[...this.plots].join(', ')}`);
    }
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.repository.listUsers()).map(userView);
  }

  async createUser(actor: Principal, input: NewUserInput, client: ClientInfo): Promise<UserView> {
    const username = input.username.toLowerCase();
    if (username.startsWith(DEMO_PREFIX)) throw new AppError('BAD_REQUEST', `Usernames starting with "${DEMO_PREFIX}" are kept for the demo accounts`);
    this.checkPlot(input.plotId);
    this.checkPassword(input.password, username);
    const passwordHash = await hashPassword(input.password);
    let user: UserRow;
    try {
      user = await this.repository.createUser({ username, displayName: input.displayName, role: input.role, plotId: input.plotId, passwordHash }, this.now());
    } catch (error) {
      if (error instanceof UsernameTakenError) throw new AppError('USERNAME_TAKEN', error.message);
      throw error;
    }
    await this.audit('user-created', username, client, { role: input.role, plotId: input.plotId }, actor.user.username);
    return userView(user);
  }

  /**
   * Changes a user's name, role, plot or disabled flag, or resets the password.
   * A change of role, plot or access ends the user's sessions, so that rooms
   * and permissions never lag behind.
   */
  async updateUser(actor: Principal, id: number, patch: UserPatch & { password?: string }, client: ClientInfo): Promise<UserView> {
    const before = await this.repository.findUserById(id);
    if (!before) throw new AppError('USER_NOT_FOUND', `No user with id ${id}`);
    this.checkPlot(patch.plotId);
    const losesAdmin = before.role === 'admin' && !before.disabled && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true);
    if (losesAdmin && (await this.repository.listUsers()).filter((u) => u.role === 'admin' && !u.disabled).length <= 1) {
      throw new AppError('LAST_ADMIN', 'This is the last enabled admin; make another admin first');
    }
    const { password, ...fields } = patch;
    const now = this.now();
    const after = Object.keys(fields).length > 0 ? await this.repository.updateUser(id, fields, now) : before;
    if (password !== undefined) {
      this.checkPassword(password, before.username);
      await this.repository.setPassword(id, await hashPassword(password), now);
    }
    const changed = Object.fromEntries(Object.entries(fields).filter(([key, value]) => before[key as keyof UserPatch] !== value));
    const endsSessions = password !== undefined || 'role' in changed || 'plotId' in changed || changed.disabled === true;
    if (endsSessions) {
      await this.repository.deleteSessionsOf(id);
      this.ended({ userId: id });
    }
    await this.audit('user-updated', before.username, client, {
      ...Object.fromEntries(Object.entries(changed).map(([key, value]) => [key, { from: before[key as keyof UserPatch], to: value }])),
      ...(password !== undefined && { passwordReset: true }),
    }, actor.user.username);
    return userView(after!);
  }

  async events(opts: { limit: number; username?: string }): Promise<AuthEventView[]> {
    return (await this.repository.listEvents(opts)).map((e) => ({ ...e, at: e.at.toISOString() }));
  }

  async deleteExpiredSessions(): Promise<number> {
    return this.repository.deleteExpiredSessions(this.now());
  }

  /**
   * First start: creates `admin` (password from ADMIN_PASSWORD, else generated
   * and returned so the caller prints it once). Demo accounts, one per role with
   * DEMO_PASSWORD, are enabled in the embedded demo and disabled everywhere else.
   */
  async bootstrap(opts: { adminPassword: string | null; demo: boolean; demoPlot: string | null }): Promise<{ generatedAdminPassword: string | null; demoAccounts: number }> {
    let generatedAdminPassword: string | null = null;
    if (!(await this.repository.findUser(ADMIN_USERNAME))) {
      const password = opts.adminPassword ?? generatePassword();
      try {
        await this.repository.createUser({ username: ADMIN_USERNAME, displayName: 'Administrator', role: 'admin', plotId: null, passwordHash: await hashPassword(password) }, this.now());
        await this.audit('user-created', ADMIN_USERNAME, {}, { role: 'admin', bootstrap: true }, 'system');
        if (opts.adminPassword === null) generatedAdminPassword = password;
      } catch (error) {
        if (!(error instanceof UsernameTakenError)) throw error; // another instance created it at the same moment
      }
    }
    if (opts.demo) {
      const existing = new Set((await this.repository.listUsers()).map((u) => u.username));
      const missing = ROLES.filter((role) => !existing.has(demoUsername(role)));
      if (missing.length > 0) {
        const passwordHash = await hashPassword(DEMO_PASSWORD);
        for (const role of missing) {
          await this.repository.createUser({
            username: demoUsername(role), displayName: `DEMO ${role}`, role, passwordHash, demo: true,
            plotId: role === 'patrol-officer' ? opts.demoPlot : null,
          }, this.now()).catch((error: unknown) => { if (!(error instanceof UsernameTakenError)) throw error; });
        }
      }
    }
    const demoAccounts = await this.repository.setDemoAccountsEnabled(opts.demo, this.now());
    return { generatedAdminPassword, demoAccounts: opts.demo ? demoAccounts : 0 };
  }
}
