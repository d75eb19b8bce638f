// HTTP to /api/v1: JSON in and out, errors as ApiError carrying the contract's
// {"error": {"code", "message"}}. Token handling lives in auth.ts.

export const API_PREFIX = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (e.g. the challenge token of two_factor_code_required). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** One request; answers the parsed body (null for 204) or throws ApiError (status 0: network). */
export async function request<T>(
  fetcher: Fetch,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = {};
  // A Blob (an uploaded file) goes as its raw bytes; the server sniffs its type.
  const raw = typeof Blob !== "undefined" && body instanceof Blob;
  if (body !== undefined)
    headers["Content-Type"] = raw ? "application/octet-stream" : "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetcher(API_PREFIX + path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? (body as Blob) : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach the server. Check the connection.");
  }
  let data: unknown = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (
      data as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null
    )?.error;
    const code = typeof err?.code === "string" ? err.code : `http_${res.status}`;
    let message = typeof err?.message === "string" ? err.message : `HTTP ${res.status}`;
    // 422 names the fields that failed: say which (the first few), not just "see details".
    if (Array.isArray(err?.details)) {
      const parts = (err.details as { field?: unknown; message?: unknown }[])
        .slice(0, 3)
        .map((d) => [d.field, d.message].filter((x) => typeof x === "string" && x).join(": "))
        .filter(Boolean);
      if (parts.length) message = parts.join("; ");
    }
    throw new ApiError(res.status, code, message, err?.details);
  }
  return data as T;
}

/** The text an inline error shows for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "already_claimed") return "Taken by another agent";
    if (err.code === "rate_limited") return "Too many requests; try again in a moment.";
    if (err.code === "unavailable") return "The service is unavailable; try again in a moment.";
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A JWT's `iat` and `exp` claims (seconds since the epoch), or null when unreadable. */
export function tokenTimes(token: string): { iat: number; exp: number } | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const { iat, exp } = JSON.parse(json) as { iat?: unknown; exp?: unknown };
    if (typeof exp !== "number") return null;
    return { iat: typeof iat === "number" ? iat : exp - 900, exp };
  } catch {
    return null;
  }
}
