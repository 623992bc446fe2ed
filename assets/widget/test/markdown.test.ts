import { describe, expect, it } from "vitest";
import { markdownStream, renderMarkdown, safeUrl, scanned } from "../src/chat/markdown";
import { longReply } from "./replies";

function md(src: string): HTMLElement {
  const div = document.createElement("div");
  div.appendChild(renderMarkdown(src));
  return div;
}

/** Tag names of all elements, in document order. */
const tags = (el: Element) => [...el.querySelectorAll("*")].map((e) => e.tagName.toLowerCase());
/** Elements other than the markup Markdown-lite may produce. */
const foreign = (el: Element) => tags(el).filter((t) => !["p", "br", "strong", "em", "code", "ul", "ol", "li", "a"].includes(t));

describe("renderMarkdown: hostile input stays text", () => {
  const payloads = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg/onload=alert(1)>",
    "&lt;img src=x onerror=alert(1)&gt;",
    "&#x3C;b&#x3E;not bold&#x3C;/b&#x3E;",
    '"><iframe src="https://evil.example">',
  ];
  for (const p of payloads) {
    it(`keeps ${JSON.stringify(p)} as literal text`, () => {
      const el = md(p);
      expect(foreign(el)).toEqual([]);
      expect(el.querySelector("a")).toBeNull();
      expect(el.textContent).toBe(p);
    });
  }

  it("does not link javascript:, data: or vbscript: URLs", () => {
    for (const src of [
      "[x](javascript:alert(1))",
      "[x](JavaScript:alert(1))",
      "[x](data:text/html;base64,PHNjcmlwdD4=)",
      "[x](vbscript:msgbox)",
      "[x](//evil.example/path)",
      "javascript:alert(1)",
    ]) {
      const el = md(src);
      expect(el.querySelector("a"), src).toBeNull();
      expect(el.textContent).toBe(src);
    }
  });

  it("renders markup inside code and bold as text", () => {
    const el = md("`<b>x</b>` **<i>y</i>**");
    expect(el.querySelector("code")!.textContent).toBe("<b>x</b>");
    expect(el.querySelector("strong")!.textContent).toBe("<i>y</i>");
    expect(foreign(el)).toEqual([]);
  });
});

describe("renderMarkdown: formatting", () => {
  it("renders bold, italic and code", () => {
    const el = md("a **b** *c* `d`");
    expect(el.querySelector("strong")!.textContent).toBe("b");
    expect(el.querySelector("em")!.textContent).toBe("c");
    expect(el.querySelector("code")!.textContent).toBe("d");
    expect(el.textContent).toBe("a b c d");
  });

  it("nests italic in bold and bold in italic", () => {
    const a = md("**bold *it* more**");
    expect(a.querySelector("strong > em")!.textContent).toBe("it");
    expect(a.querySelector("strong")!.textContent).toBe("bold it more");
    const b = md("*it **bold** more*");
    expect(b.querySelector("em > strong")!.textContent).toBe("bold");
    expect(b.querySelector("em")!.textContent).toBe("it bold more");
  });

  it("leaves lone or spaced asterisks alone", () => {
    expect(md("2 * 3 * 4").textContent).toBe("2 * 3 * 4");
    expect(md("2 * 3 * 4").querySelector("em")).toBeNull();
    expect(md("**not closed").textContent).toBe("**not closed");
    expect(md("snake_case_name").textContent).toBe("snake_case_name");
  });

  it("honours backslash escapes", () => {
    const el = md("\\*not italic\\*");
    expect(el.querySelector("em")).toBeNull();
    expect(el.textContent).toBe("*not italic*");
  });

  it("renders bullet and numbered lists", () => {
    const el = md("Options:\n- one\n- **two**\n* three\n\n1. first\n2. second\n\n3) third");
    expect(tags(el)).toEqual(["p", "ul", "li", "li", "strong", "li", "ol", "li", "li", "ol", "li"]);
    expect([...el.querySelectorAll("ul li")].map((l) => l.textContent)).toEqual(["one", "two", "three"]);
    expect(el.querySelectorAll("ol")[1].getAttribute("start")).toBe("3");
  });

  it("continues a list item on a line indented by two spaces, without its outer spaces", () => {
    const el = md("- first\n   more of it  \n- second");
    // Each item's children as text, a line break as <br>: the same picture without reading HTML back.
    const items = [...el.querySelectorAll("li")].map((li) =>
      [...li.childNodes].map((n) => (n.nodeName === "BR" ? "<br>" : n.textContent)).join(""),
    );
    expect(items).toEqual(["first<br>more of it", "second"]);
  });

  it("keeps paragraphs and line breaks", () => {
    const el = md("line 1\nline 2\n\npara 2");
    expect(el.querySelectorAll("p").length).toBe(2);
    expect(el.querySelectorAll("p")[0].querySelectorAll("br").length).toBe(1);
  });

  it("links http(s) only, with target and rel", () => {
    const el = md("See [the shop](https://shop.example/a?b=1) or https://x.example/p.");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://shop.example/a?b=1", "https://x.example/p"]);
    expect(links[0].textContent).toBe("the shop");
    expect(links[1].textContent).toBe("https://x.example/p");
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
    expect(el.textContent).toBe("See the shop or https://x.example/p.");
  });

  it("does not nest links in link labels", () => {
    const el = md("[https://a.example](https://b.example)");
    expect(el.querySelectorAll("a").length).toBe(1);
    expect(el.querySelector("a")!.getAttribute("href")).toBe("https://b.example/");
  });
});

describe("safeUrl", () => {
  it("accepts http(s) and rejects everything else", () => {
    expect(safeUrl("https://a.example/x")).toBe("https://a.example/x");
    expect(safeUrl("HTTP://A.example")).toBe("http://a.example/");
    for (const u of ["javascript:alert(1)", " javascript:x", "data:x", "ftp://a", "/relative", "", null, 5, "https://"])
      expect(safeUrl(u), String(u)).toBeNull();
  });
});

/** Shows `src` in pieces of `size` characters, as a stream of deltas would; returns the element. */
function streamed(src: string, size: number): HTMLElement {
  const box = document.createElement("div");
  const show = markdownStream(box);
  for (let n = size; n < src.length; n += size) show(src.slice(0, n), false);
  show(src, true);
  return box;
}

/** A pseudo-random text made of markup and line breaks (a fixed sequence: failures reproduce). */
function markupSoup(seed: number, tokens: number): string {
  const parts = ["a", "b c", " ", "  ", "*", "**", "`", "\\", "[", "](", ")", "https://x.example/p", "http", "- ", "1. ", "12)", "\n", "\n", "\r", "\r\n", "\u2028"];
  let x = seed;
  let s = "";
  for (let i = 0; i < tokens; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += parts[(x >>> 16) % parts.length];
  }
  return s;
}

/** The DOM a single render of `src` gives. */
function single(src: string): HTMLElement {
  const div = document.createElement("div");
  div.appendChild(renderMarkdown(src));
  return div;
}

describe("markdownStream: a reply as it streams in", () => {
  it("shows each prefix as a single render of it, but an open line whose kind is not known yet", () => {
    // The open last line waits while it may still turn out blank or a list item ("1", "- ").
    const unsure = /^\s*([-*\u2022+]|\d{1,3}[.)]?)?\s*$/;
    const sources = ["- item\n  its second line  \n  and a third ", ...Array.from({ length: 400 }, (_, i) => markupSoup(i + 1, 40))];
    sources.forEach((src, k) => {
      const box = document.createElement("div");
      const show = markdownStream(box);
      for (let n = 1; n <= src.length; n += 1 + (k % 3)) {
        const prefix = src.slice(0, n);
        show(prefix, false);
        // (A CR at the end may be half of a CRLF: the line before it is still open.)
        const body = prefix.replace(/\r$/, "");
        const open = body.split(/\r\n?|\n/).pop()!;
        const shown = unsure.test(open) ? body.slice(0, body.length - open.length) : prefix;
        expect(box.isEqualNode(single(shown)), `${JSON.stringify(prefix)}: ${JSON.stringify(box.textContent)}`).toBe(true);
      }
      show(src, true);
      expect(box.isEqualNode(single(src)), JSON.stringify(src)).toBe(true);
    });
  });

  for (const size of [1, 4, 50])
    it(`renders a long reply streamed ${size} characters at a time in work linear in its length`, () => {
      const ratio = (src: string) => {
        scanned.chars = 0;
        const box = streamed(src, size);
        const work = scanned.chars / src.length;
        expect(box.isEqualNode(single(src))).toBe(true);
        return work;
      };
      const short = ratio(longReply(15));
      const long = ratio(longReply(60));
      // Rendering it all again on every piece, as the widget did, scans about length / size
      // characters per character: 5 066 for this reply in 4-character pieces.
      expect(long).toBeLessThan(12);
      // Four times the text, the same work per character.
      expect(long / short).toBeLessThan(1.1);
    });
});
