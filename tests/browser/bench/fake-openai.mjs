// A fake OpenAI-compatible upstream: `POST /v1/chat/completions` answers every request with the
// reply it was given, streamed in the chat-completions SSE format a few characters per chunk, at
// a steady pace, and notes when it wrote the first and the last byte.

import http from "node:http";
import { freePort } from "../lib/keepstar.mjs";

export class FakeOpenAI {
  /**
   * @param {{chars?: number, perSecond?: number}} opts characters per delta, deltas per second
   */
  static async start({ chars = 4, perSecond = 1000 } = {}) {
    const up = new FakeOpenAI();
    up.chars = chars;
    up.perSecond = perSecond;
    up.reply = "";
    up.streams = [];
    up.port = await freePort();
    up.url = `http://127.0.0.1:${up.port}/v1`;
    up.server = http.createServer((req, res) => up.handle(req, res));
    await new Promise((ok) => up.server.listen(up.port, "127.0.0.1", ok));
    return up;
  }

  handle(req, res) {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") return res.writeHead(404).end();
    req.resume();
    req.on("end", () => this.stream(res));
  }

  /** Streams `this.reply`; the record of it is pushed to `this.streams` when the last byte is out. */
  stream(res) {
    const text = this.reply;
    const record = { deltas: 0, firstByteAt: 0, lastByteAt: 0 };
    const event = (delta, finish = null) =>
      `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    res.write(event({ role: "assistant", content: "" }));
    record.firstByteAt = Date.now();
    // Every 10 ms, the deltas due by then: a steady rate, whatever the timer's jitter.
    let at = 0;
    const started = Date.now();
    const tick = () => {
      const due = Math.min(text.length, Math.ceil(((Date.now() - started) * this.perSecond) / 1000) * this.chars);
      for (; at < due; at += this.chars) {
        res.write(event({ content: text.slice(at, at + this.chars) }));
        record.deltas++;
      }
      if (at < text.length) return void setTimeout(tick, 10);
      res.write(event({}, "stop"));
      res.end("data: [DONE]\n\n", () => {
        record.lastByteAt = Date.now();
        this.streams.push(record);
      });
    };
    tick();
  }

  close() {
    this.server.closeAllConnections?.();
    return new Promise((ok) => this.server.close(ok));
  }
}
