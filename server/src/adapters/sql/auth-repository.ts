/**
 * Users, sessions and the security audit log in the relational store. No
 * policy here (that is server/src/auth/): plain reads and writes.
 */
import { and, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Role } from '../../auth/roles.ts';
import type { Database } from './database.ts';
import { authEvents, sessions, users } from './schema.ts';

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type AuthEventRow = typeof authEvents.$inferSelect;

export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  plotId: string | null;
  passwordHash: string;
  demo?: boolean;
  disabled?: boolean;
}

export type UserPatch = Partial<Pick<UserRow, 'displayName' | 'role' | 'plotId' | 'disabled'>>;

export type NewAuthEvent = Omit<typeof authEvents.$inferInsert, 'id'>;

export class UsernameTakenError extends Error {
  readonly code = 'USERNAME_TAKEN';
  constructor(username: string) {
    super(`The username "${username}" is taken`);
  }
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

export class AuthRepository {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  async findUser(username: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.username, username.toLowerCase()));
    return row;
  }

  async findUserById(id: number): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async listUsers(): Promise<UserRow[]> {
    return this.db.select().from(users).orderBy(users.username);
  }

  async createUser(user: NewUser, at: Date): Promise<UserRow> {
    try {
      const [row] = await this.db.insert(users).values({
        ...user, username: user.username.toLowerCase(), createdAt: at, updatedAt: at, passwordChangedAt: at,
      }).returning();
      return row!;
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsernameTakenError(user.username);
      throw error;
    }
  }

  async updateUser(id: number, patch: UserPatch, at: Date): Promise<UserRow | undefined> {
    const [row] = await this.db.update(users).set({ ...patch, updatedAt: at }).where(eq(users.id, id)).returning();
    return row;
  }

  async setPassword(id: number, passwordHash: string, at: Date): Promise<void> {
    await this.db.update(users).set({ passwordHash, passwordChangedAt: at, updatedAt: at }).where(eq(users.id, id));
  }

  /** Enables or disables every demo account at once; returns how many there are. */
  async setDemoAccountsEnabled(enabled: boolean, at: Date): Promise<number> {
    const rows = await this.db.update(users).set({ disabled: !enabled, updatedAt: at }).where(eq(users.demo, true)).returning({ id: users.id });
    if (!enabled) await this.db.delete(sessions).where(sql`${sessions.userId} in (select ${users.id} from ${users} where ${users.demo})`);
    return rows.length;
  }

  async createSession(session: SessionRow): Promise<void> {
    await this.db.insert(sessions).values(session);
  }

  async findSession(tokenHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const [row] = await this.db.select({ session: sessions, user: users })
      .from(sessions).innerJoin(users, eq(sessions.userId, users.id))
      .where(eq(sessions.tokenHash, tokenHash));
    return row;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
  }

  /** Ends a user's sessions, except `keep` (the one changing its own password). */
  async deleteSessionsOf(userId: number, keep?: string): Promise<void> {
    await this.db.delete(sessions).where(keep === undefined ? eq(sessions.userId, userId) : and(eq(sessions.userId, userId), ne(sessions.tokenHash, keep)));
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const rows = await this.db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ tokenHash: sessions.tokenHash });
    return rows.length;
  }

  async addEvent(event: NewAuthEvent): Promise<void> {
    await this.db.insert(authEvents).values(event);
  }

  /** Newest first. */
  async listEvents(opts: { limit: number; username?: string }): Promise<AuthEventRow[]> {
    return this.db.select().from(authEvents)
      .where(opts.username === undefined ? undefined : eq(authEvents.username, opts.username.toLowerCase()))
      .orderBy(desc(authEvents.at), desc(authEvents.id))
      .limit(opts.limit);
  }
}
