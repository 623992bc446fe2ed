// JSON client for /api/v1. Errors are thrown as ApiError carrying the HTTP status,
// the server's error code and, for 429, the Retry-After wait in seconds.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public retryAfter?: number,
  ) {
    super(message);
  }
  /** Worth retrying later (network, timeouts, 5xx, 429). */
  get transient(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return +v;
  const t = Date.parse(v);
  return isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

export async function api<T>(
  base: string,
  method: "GET" | "POST",
  path: string,
  token?: string | null,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(base + "/api/v1" + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      signal,
    });
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ApiError(0, "network", "network error");
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (json && json.error) || {};
    throw new ApiError(
      res.status,
      String(err.code || "http_" + res.status),
      String(err.message || res.statusText || "request failed"),
      parseRetryAfter(res.headers.get("Retry-After")) ?? (typeof err.retry_after === "number" ? err.retry_after : undefined),
    );
  }
  return json as T;
}
