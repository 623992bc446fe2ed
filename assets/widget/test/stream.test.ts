import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, parseRetryAfter } from "../src/chat/http";
import { EventStream, backoff } from "../src/chat/stream";

const enc = new TextEncoder();
const sse = (text: string, status = 200) =>
  new Response(new ReadableStream({ start: (c) => (c.enqueue(enc.encode(text)), c.close()) }), { status });

afterEach(() => vi.unstubAllGlobals());

function start(fetchImpl: (url: string, init: RequestInit) => Promise<Response>, over: Partial<ConstructorParameters<typeof EventStream>[0]> = {}) {
  vi.stubGlobal("fetch", vi.fn(fetchImpl));
  const events: string[] = [];
  const states: boolean[] = [];
  const fatal: number[] = [];
  const s = new EventStream({
    url: "https://k.example/api/v1/events?conversation=c1",
    token: async () => "t",
    renew: async () => {},
    onEvent: (e) => events.push(`${e.event}:${e.data}`),
    onState: (up) => states.push(up),
    onFatal: (st) => fatal.push(st),
    ...over,
  });
  return { s, events, states, fatal, fetch: fetch as unknown as ReturnType<typeof vi.fn> };
}

describe("EventStream", () => {
  it("backs off exponentially with jitter, capped at 30 s", () => {
    expect(backoff(0, 0)).toBe(500);
    expect(backoff(0, 1)).toBe(1000);
    expect(backoff(3, 0)).toBe(4000);
    expect(backoff(10, 1)).toBe(30000);
    expect(backoff(10, 0)).toBe(15000);
  });

  it("stops on a 404 without retrying", async () => {
    const { fatal, fetch } = start(async () => new Response("", { status: 404 }));
    await vi.waitFor(() => expect(fatal).toEqual([404]));
    await new Promise((r) => setTimeout(r, 30));
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("renews the session on 401 and reconnects with the new token and the last id", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    let token = "old";
    const calls: Record<string, string>[] = [];
    const { s, events } = start(
      async (_u, init) => {
        const h = init.headers as Record<string, string>;
        calls.push(h);
        if (calls.length === 1) return sse("id: 5\nevent: delta\ndata: a\n\n");
        if (calls.length === 2) return new Response("", { status: 401 });
        return sse("id: 6\nevent: delta\ndata: b\n\n");
      },
      { token: async () => token, renew: async () => void (token = "new") },
    );
    await vi.waitFor(() => expect(events).toEqual(["delta:a", "delta:b"]), { timeout: 4000 });
    s.stop();
    expect(calls[0].Authorization).toBe("Bearer old");
    expect(calls[0]["Last-Event-ID"]).toBeUndefined();
    expect(calls[1]["Last-Event-ID"]).toBe("5");
    expect(calls[2].Authorization).toBe("Bearer new");
    expect(calls[2]["Last-Event-ID"]).toBe("5");
    vi.restoreAllMocks();
  });

  it("stops when the session cannot be renewed (key revoked)", async () => {
    const { fatal } = start(async () => new Response("", { status: 401 }), {
      renew: async () => {
        throw new ApiError(401, "unauthorized", "bad key");
      },
    });
    await vi.waitFor(() => expect(fatal).toEqual([401]));
  });

  it("aborts a silent connection and reconnects", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    let n = 0;
    const { s, states } = start(
      async (_u, init) => {
        n++;
        return new Response(
          new ReadableStream({
            start: (c) => init.signal!.addEventListener("abort", () => c.error(new DOMException("aborted", "AbortError"))),
          }),
        );
      },
      { idleMs: 30 },
    );
    await vi.waitFor(() => expect(n).toBeGreaterThanOrEqual(2), { timeout: 3000 });
    s.stop();
    expect(states.slice(0, 2)).toEqual([true, false]);
    vi.restoreAllMocks();
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
