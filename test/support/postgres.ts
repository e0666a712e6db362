/** A throwaway PostgreSQL database for one test file, created from TEST_DATABASE_URL and dropped afterwards. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TempDatabase { url: string; drop(): Promise<void> }

export async function createTempDatabase(baseUrl: string, prefix = 'ew_t'): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(baseUrl, { onnotice: () => {}, max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(baseUrl, { onnotice: () => {}, max: 1 });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
