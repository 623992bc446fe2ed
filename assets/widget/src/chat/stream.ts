// The conversation's event stream: fetch + ReadableStream + SseParser (EventSource
// cannot send Authorization). Reconnects with exponential backoff and jitter, resumes
// with Last-Event-ID, re-creates the session on 401, and treats 45 s without a byte
// (not even a keep-alive comment) as a dead connection.

import { ApiError } from "./http";
import { SseParser, type SseEvent } from "./sse";

export interface StreamOptions {
  url: string;
  /** The current bearer token. */
  token(): Promise<string>;
  /** Called on 401: re-create the session (throws when that is impossible). */
  renew(): Promise<void>;
  onEvent(e: SseEvent): void;
  /** true once connected, false when the connection is lost and a retry is pending. */
  onState(connected: boolean): void;
  /** A non-retryable failure (403/404/410…): the stream stops. */
  onFatal(status: number): void;
  lastEventId?: string;
  idleMs?: number;
}

export const backoff = (attempt: number, rnd = Math.random()) =>
  Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) * (0.5 + rnd / 2);

export class EventStream {
  lastEventId: string;
  private stopped = false;
  private ctl: AbortController | null = null;
  private wake: (() => void) | null = null;
  private attempt = 0;

  constructor(private o: StreamOptions) {
    this.lastEventId = o.lastEventId || "";
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.ctl?.abort();
    this.wake?.();
  }

  /** Skip the backoff wait (the browser came back online). */
  nudge(): void {
    this.attempt = 0;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ctl = (this.ctl = new AbortController());
      let idle: ReturnType<typeof setTimeout> | undefined;
      const kick = () => {
        clearTimeout(idle);
        idle = setTimeout(() => ctl.abort(), this.o.idleMs ?? 45000);
      };
      try {
        const headers: Record<string, string> = {
          Accept: "text/event-stream",
          Authorization: "Bearer " + (await this.o.token()),
        };
        if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
        kick();
        const res = await fetch(this.o.url, { headers, signal: ctl.signal, credentials: "omit", cache: "no-store" });
        if (res.status === 401) {
          await this.o.renew();
          throw 0;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          clearTimeout(idle);
          this.stopped = true;
          this.o.onFatal(res.status);
          return;
        }
        if (!res.ok || !res.body) throw 0;
        this.o.onState(true);
        this.attempt = 0;
        const parser = new SseParser((e) => {
          this.lastEventId = e.id;
          this.o.onEvent(e);
        });
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done || this.stopped) break;
          kick();
          parser.push(value);
          this.lastEventId = parser.lastEventId;
        }
        parser.end();
      } catch (e) {
        if (e instanceof ApiError && !e.transient) {
          clearTimeout(idle);
          this.stopped = true;
          return this.o.onFatal(e.status);
        }
      }
      clearTimeout(idle);
      if (this.stopped) return;
      this.o.onState(false);
      await new Promise<void>((r) => {
        const t = setTimeout(r, backoff(this.attempt++));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
    }
  }
}
