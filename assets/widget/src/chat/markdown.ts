// Markdown-lite → DOM nodes: **bold**, *italic*, `code`, bullet and numbered lists,
// [links](https://…) and bare http(s) URLs. Everything else — including any markup —
// stays text: nodes are only ever created with createElement/createTextNode.
//
// A streamed reply grows by a few characters at a time, so markdownStream renders it as it grows:
// every complete line once, and of the open last line what more text cannot change. Only the rest
// of that line, from the first span still open (`**bo…`, a link without its `)`), is rendered
// again on the next update. Replies whose spans close thus cost work linear in their length,
// however small their pieces; a span that never closes (a lone `*`) leaves the rest of its line to
// be rendered on each update (the chat updates once a frame).

import { h } from "../shared/dom";

/** The normalised href when `u` is an absolute http(s) URL, else null. */
export function safeUrl(u: unknown): string | null {
  if (typeof u !== "string" || !/^https?:\/\//i.test(u.trim())) return null;
  try {
    const url = new URL(u.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** An external link that opens in a new tab without giving the page a handle on ours. */
export function extLink(href: string, ...children: (Node | string)[]): HTMLAnchorElement {
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, ...children);
}

/**
 * Characters the renderer has scanned: a test hook (the total must stay linear in the text),
 * counted by statements labelled TEST, which the build leaves out.
 */
export const scanned = { chars: 0 };

const LIST = /^\s*(?:([-*\u2022+])|(\d{1,3})[.)])\s+(.*)$/;
/** An open line that may still turn out blank, a list item or part of one: its kind is not known yet. */
const UNSURE = /^\s*([-*\u2022+]|\d{1,3}[.)]?)?\s*$/;
const EOL = /\r\n?|\n/g;
const LINK = /^\[([^\]\n]+)\]\(([^)\s]+)\)/;
/** What more text could make a link (and "[]…", which it could not). */
const LINK_START = /^\[[^\]\n]*(\](\([^)\s]*)?)?$/;
const URL_RE = /^https?:\/\/[^\s<>"]+/i;

export function renderMarkdown(src: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  markdownStream(frag)(src, true);
  return frag;
}

/**
 * Shows `src`, which extends the source shown before. `complete`: it will not grow any more, so
 * its last line is rendered for good.
 */
export type MarkdownStream = (src: string, complete: boolean) => void;

/** Markdown-lite rendered into `root` (emptied first) while its source grows. */
export function markdownStream(root: Element | DocumentFragment): MarkdownStream {
  let closed: boolean;
  /** Where the open line starts, and how far the source has been searched for line ends. */
  let start: number;
  let seen: number;
  let p: HTMLElement | null;
  let list: HTMLElement | null;
  let li: HTMLElement | null;
  /** The open line: where its inline text goes (null while its kind is not known), where that
   * text starts in the line, whether its end is trimmed, how far it is rendered for good... */
  let out: Node | null;
  let cut: number;
  let trim: boolean;
  let pos: number;
  let text: string;
  /** ...and the nodes of the rest of it, which the next update replaces. */
  let rest: ChildNode[];

  const reset = () => {
    root.replaceChildren();
    start = seen = pos = 0;
    closed = trim = false;
    p = list = li = out = null;
    text = "";
    rest = [];
  };

  /** Starts line `l`: opens or continues its block; returns where its inline text goes. */
  const begin = (l: string): Node | null => {
    const m = LIST.exec(l);
    if (m) {
      p = null;
      const tag = m[1] ? "ul" : "ol";
      if (!list || list.localName !== tag) root.appendChild((list = h(tag, { start: m[2] !== "1" && m[2] && +m[2] })));
      cut = l.length - m[3].length;
      return list.appendChild((li = h("li")));
    }
    if (!l.trim()) return (p = list = li = null);
    if (li && /^\s{2,}\S/.test(l)) {
      li.appendChild(h("br"));
      cut = l.search(/\S/);
      trim = true;
      return li;
    }
    list = li = null;
    cut = 0;
    if (p) p.appendChild(h("br"));
    else root.appendChild((p = h("p")));
    return p;
  };

  /** A line, `done` or still open (then it comes again with more of it). */
  const line = (l: string, done: boolean) => {
    if (!out && ((!done && UNSURE.test(l)) || !(out = begin(l)))) return;
    const s = trim ? l.slice(cut).trimEnd() : l.slice(cut);
    [pos, text] = inline(s, out, true, pos, text, !done);
    if (done) return void (out = null, pos = 0, trim = false);
    const f = document.createDocumentFragment();
    inline(s, f, true, pos, text);
    rest = [...f.childNodes];
    out.appendChild(f);
  };

  reset();
  return (src, complete) => {
    // Shown again unchanged (a message repainted for its status, say): nothing to do.
    if (closed && src.length === seen) return;
    // Grown after all, or LIST's `.` stops at a line separator, so an open list item that gets
    // one is no list item after all: render it anew.
    if (closed || (out && out === li && /[\u2028\u2029]/.test(src.slice(seen)))) reset();
    for (const n of rest) n.remove();
    TEST: scanned.chars += src.length - seen;
    EOL.lastIndex = seen;
    let m: RegExpExecArray | null;
    // A CR at the very end may be the first half of a CRLF: the line ends when that is known.
    while ((m = EOL.exec(src)) && (complete || m[0] !== "\r" || EOL.lastIndex < src.length)) {
      line(src.slice(start, m.index), true);
      start = EOL.lastIndex;
    }
    seen = m ? m.index : src.length;
    rest = [];
    line(src.slice(start, seen), complete);
    closed = complete;
  };
}

/** Index of the `*` closing an italic span opened before `from`, skipping `**…**` and code. */
function closeItalic(s: string, from: number, open: boolean): number {
  for (let k = from; k < s.length; k++) {
    if (s[k] === "`") {
      const e = s.indexOf("`", k + 1);
      if (e > 0) k = e;
      // A backtick closed later would hide what is found after it.
      else if (open) return -1;
    } else if (s.startsWith("**", k)) {
      const e = s.indexOf("**", k + 2);
      if (e < 0) return -1;
      k = e + 1;
    } else if (s[k] === "*" && k > from && !/\s/.test(s[k - 1])) return k;
  }
  return -1;
}

/**
 * Renders the inline markup of `s` from `i` into `out`, after the literal `text` carried over
 * from an earlier call. `open`: more text may follow, so it stops before the first thing that
 * text could change (a span not closed yet, a URL or an escape at the very end) and returns
 * where, with the literal text it has not placed yet.
 */
function inline(s: string, out: Node, links = true, i = 0, text = "", open = false): [number, string] {
  TEST: scanned.chars += s.length - i;
  const flush = () => {
    if (text) out.appendChild(document.createTextNode(text));
    text = "";
  };
  const put = (n: Node, len: number) => {
    flush();
    out.appendChild(n);
    return len;
  };
  while (i < s.length) {
    const c = s[i];
    const rest = s.slice(i);
    let m: RegExpExecArray | null;
    if (c === "\\") {
      if (open && !s[i + 1]) break;
      if (/^\\[\\`*_[\]()]/.test(rest)) {
        text += s[i + 1];
        i += 2;
        continue;
      }
    }
    if (c === "`") {
      const j = s.indexOf("`", i + 1);
      if (j > i + 1) {
        i += put(h("code", null, s.slice(i + 1, j)), j + 1 - i);
        continue;
      }
      if (open && j < 0) break;
    }
    if (c === "*") {
      if (open && !s[i + 2]) break;
      if (rest.startsWith("**") && s[i + 2] && !/\s/.test(s[i + 2])) {
        const j = s.indexOf("**", i + 3);
        if (j > 0 && !/\s/.test(s[j - 1])) {
          const b = h("strong");
          inline(s.slice(i + 2, j), b, links);
          i += put(b, j + 2 - i);
          continue;
        }
        if (open && j < 0) break;
      }
      if (s[i + 1] && !/[\s*]/.test(s[i + 1])) {
        const j = closeItalic(s, i + 1, open);
        // A closing `*` at the very end could still become the start of `**`.
        if (open && (j < 0 || !s[j + 1])) break;
        if (j > 0) {
          const e = h("em");
          inline(s.slice(i + 1, j), e, links);
          i += put(e, j + 1 - i);
          continue;
        }
      }
    }
    if (links && c === "[") {
      if ((m = LINK.exec(rest))) {
        const href = safeUrl(m[2]);
        if (href) {
          const a = extLink(href);
          inline(m[1], a, false);
          i += put(a, m[0].length);
        } else {
          text += m[0];
          i += m[0].length;
        }
        continue;
      }
      if (open && LINK_START.test(rest)) break;
    }
    if (links && (c === "h" || c === "H") && (i === 0 || /[\s(]/.test(s[i - 1]))) {
      if ((m = URL_RE.exec(rest))) {
        // The URL may go on.
        if (open && m[0] === rest) break;
        const u = m[0].replace(/[.,;:!?)\]'"]+$/, "");
        const href = safeUrl(u);
        if (href) {
          i += put(extLink(href, u), u.length);
          continue;
        }
      }
      // Not a URL yet, but the start of "http(s)://" (completed, it would be one)?
      else if (open && URL_RE.test(rest + "https://x".slice(rest.length))) break;
    }
    text += c;
    i++;
  }
  if (!open) flush();
  return [i, text];
}
