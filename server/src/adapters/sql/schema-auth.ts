/**
 * Accounts (issue 8): users with roles, server-side sessions and the audit
 * log of security events.
 */
import { bigint, boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { Role } from '../../auth/roles.ts';

const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const users = pgTable('users', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** Lower case; `admin` is the first administrator. */
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  role: text('role').$type<Role>().notNull(),
  /** A patrol officer's zone (or anyone's home plot): they join the plot's push room. */
  plotId: text('plot_id'),
  /** scrypt$... (server/src/auth/passwords.ts) */
  passwordHash: text('password_hash').notNull(),
  disabled: boolean('disabled').notNull().default(false),
  /** Demo accounts with a published password: enabled only in the embedded demo. */
  demo: boolean('demo').notNull().default(false),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
  updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  passwordChangedAt: timestampMs('password_changed_at').notNull().defaultNow(),
});

/** One row per login. The cookie holds a random token; only its SHA-256 is stored. */
export const sessions = pgTable('sessions', {
  tokenHash: text('token_hash').primaryKey(),
  userId: bigint('user_id', { mode: 'number' }).notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** Sent back in the x-csrf-token header on every state-changing request. */
  csrfToken: text('csrf_token').notNull(),
  createdAt: timestampMs('created_at').notNull(),
  expiresAt: timestampMs('expires_at').notNull(),
  address: text('address').notNull().default(''),
  userAgent: text('user_agent').notNull().default(''),
}, (t) => [
  index('sessions_user_idx').on(t.userId),
  index('sessions_expires_idx').on(t.expiresAt),
]);

/** Logins, failures, lock-outs, logouts, password and role changes: who, when, from where. */
export const authEvents = pgTable('auth_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: timestampMs('at').notNull(),
  type: text('type').notNull(),
  /** The account concerned (as typed, for failed logins). */
  username: text('username').notNull(),
  /** Who did it, when not the account itself (an admin changing a role). */
  actor: text('actor'),
  address: text('address').notNull().default(''),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
}, (t) => [
  index('auth_events_at_idx').on(t.at.desc(), t.id.desc()),
  index('auth_events_username_idx').on(t.username),
]);
