import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "../src/chat/sse";

const enc = new TextEncoder();

function parse(chunks: Uint8Array[]): { events: SseEvent[]; comments: string[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const parser = new SseParser((e) => events.push(e), (c) => comments.push(c));
  for (const c of chunks) parser.push(c);
  parser.end();
  return { events, comments, parser };
}

const bytewise = (s: string) => [...enc.encode(s)].map((b) => Uint8Array.of(b));
const whole = (s: string) => [enc.encode(s)];
/** Deterministic pseudo-random chunk sizes (1..7 bytes). */
function random(s: string, seed = 7): Uint8Array[] {
  const b = enc.encode(s);
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (seed % 7);
    out.push(b.slice(i, i + n));
    i += n;
  }
  return out;
}

const STREAM =
  ": keep-alive\n\n" +
  'event: delta\nid: 1\ndata: {"message_id":"m1","text":"Привет, "}\n\n' +
  'event: delta\nid: 2\ndata: {"message_id":"m1","text":"мир 👋🏽 你好世界"}\n\n' +
  ": ping\n" +
  'event: done\nid: 3\ndata: {"message_id":"m1",\ndata: "message":{"text":"Привет, мир 👋🏽 你好世界"}}\n\n';

describe("SseParser", () => {
  for (const [name, split] of [
    ["whole", whole],
    ["byte by byte", bytewise],
    ["random chunks", random],
  ] as const) {
    it(`parses events with multi-byte text split ${name}`, () => {
      for (const eol of ["\n", "\r\n", "\r"]) {
        const { events, comments } = parse(split(STREAM.replace(/\n/g, eol)));
        expect(events.map((e) => e.event)).toEqual(["delta", "delta", "done"]);
        expect(events.map((e) => e.id)).toEqual(["1", "2", "3"]);
        expect(JSON.parse(events[0].data).text).toBe("Привет, ");
        expect(JSON.parse(events[1].data).text).toBe("мир 👋🏽 你好世界");
        expect(JSON.parse(events[2].data).message.text).toBe("Привет, мир 👋🏽 你好世界");
        expect(comments).toEqual([" keep-alive", " ping"]);
      }
    });
  }

  it("splits inside a 4-byte emoji and a 3-byte CJK character", () => {
    const b = enc.encode("data: 😀中\n\n");
    // "data: " is 6 bytes; the emoji is bytes 6..9, 中 is 10..12.
    const { events } = parse([b.slice(0, 8), b.slice(8, 11), b.slice(11)]);
    expect(events).toEqual([{ event: "message", data: "😀中", id: "" }]);
  });

  it("handles a CRLF split between chunks without seeing an extra blank line", () => {
    const { events } = parse([enc.encode("data: a\r"), enc.encode("\ndata: b\r"), enc.encode("\n\r"), enc.encode("\n")]);
    expect(events).toEqual([{ event: "message", data: "a\nb", id: "" }]);
  });

  it("joins multi-line data with LF and strips only one leading space", () => {
    const { events } = parse(whole("data:one\ndata:  two\ndata\n\n"));
    expect(events[0].data).toBe("one\n two\n");
  });

  it("keeps the last id across events, and an empty id resets it", () => {
    const { events, parser } = parse(whole("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 9\n\n"));
    expect(events.map((e) => e.id)).toEqual(["7", "7", ""]);
    // An id on an event without data still updates the last event id.
    expect(parser.lastEventId).toBe("9");
  });

  it("ignores ids containing NUL, unknown fields, and an event type without data", () => {
    const { events } = parse(whole("id: 1\n\nid: x\0y\nfoo: bar\nevent: delta\n\ndata: z\n\n"));
    expect(events).toEqual([{ event: "message", data: "z", id: "1" }]);
  });

  it("reads retry and drops an unterminated final event", () => {
    const { events, parser } = parse(whole("retry: 2500\ndata: done\n\ndata: partial"));
    expect(parser.retry).toBe(2500);
    expect(events.map((e) => e.data)).toEqual(["done"]);
  });

  it("strips a leading BOM", () => {
    const { events } = parse([Uint8Array.of(0xef, 0xbb), Uint8Array.of(0xbf), ...whole("data: x\n\n")]);
    expect(events[0].data).toBe("x");
  });
});
