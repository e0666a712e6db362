/** Typed JSON requests to the server's REST API. */
import type { ApiError } from '../../../server/src/routes/api-types.ts';

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** A failed request, with the server's stable error code (or NETWORK / HTTP_<status>). */
export class ApiRequestError extends Error {
  constructor(readonly code: string, message: string, readonly status: number | null) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

function isApiError(body: unknown): body is ApiError {
  return typeof body === 'object' && body !== null
    && typeof (body as ApiError).code === 'string' && typeof (body as ApiError).message === 'string';
}

export async function getJson<T>(fetchFn: FetchFn, path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetchFn(path, { headers: { accept: 'application/json' } });
  } catch (err) {
    throw new ApiRequestError('NETWORK', `${path}: ${err instanceof Error ? err.message : String(err)}`, null);
  }
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    if (isApiError(body)) throw new ApiRequestError(body.code, body.message, response.status);
    throw new ApiRequestError(`HTTP_${response.status}`, `${path}: HTTP ${response.status}`, response.status);
  }
  return (await response.json()) as T;
}
