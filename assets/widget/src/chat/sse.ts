// Server-Sent Events parser (WHATWG "event stream interpretation") over raw bytes.
// A streaming TextDecoder keeps multi-byte UTF-8 characters whole across chunk
// boundaries; lines end with CRLF, LF or CR, and a CR at the very end of a chunk
// waits for the next chunk to see whether an LF follows.

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  data: string;
  /** The last event id seen so far (ids persist across events, as in EventSource). */
  id: string;
}

export class SseParser {
  /** The last `id:` received; send it as Last-Event-ID when reconnecting. */
  lastEventId = "";
  /** A `retry:` value in ms, if the server sent one. */
  retry: number | undefined;
  private dec = new TextDecoder("utf-8");
  private buf = "";
  private skipLf = false;
  private data: string[] = [];
  private type = "";
  private idBuf = "";

  constructor(
    private onEvent: (e: SseEvent) => void,
    private onComment?: (text: string) => void,
  ) {}

  /** Feeds a chunk of the response body. */
  push(chunk: Uint8Array): void {
    this.feed(this.dec.decode(chunk, { stream: true }));
  }

  /** The stream ended: flush the decoder; an unterminated event is dropped (per spec). */
  end(): void {
    this.feed(this.dec.decode());
    this.buf = "";
    this.data = [];
    this.type = "";
  }

  private feed(text: string): void {
    let s = this.buf + text;
    if (this.skipLf && s) {
      if (s[0] === "\n") s = s.slice(1);
      this.skipLf = false;
    }
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c !== "\n" && c !== "\r") continue;
      this.line(s.slice(start, i));
      if (c === "\r") {
        if (i + 1 === s.length) this.skipLf = true;
        else if (s[i + 1] === "\n") i++;
      }
      start = i + 1;
    }
    this.buf = s.slice(start);
  }

  private line(l: string): void {
    if (l === "") return this.dispatch();
    if (l[0] === ":") return this.onComment?.(l.slice(1));
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? "" : l.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    else if (field === "id") {
      if (!value.includes("\0")) this.idBuf = value;
    } else if (field === "retry" && /^\d+$/.test(value)) this.retry = +value;
  }

  private dispatch(): void {
    this.lastEventId = this.idBuf;
    const type = this.type || "message";
    this.type = "";
    if (!this.data.length) return;
    const data = this.data.join("\n");
    this.data = [];
    this.onEvent({ event: type, data, id: this.lastEventId });
  }
}
