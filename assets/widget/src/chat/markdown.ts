// Markdown-lite → DOM nodes: **bold**, *italic*, `code`, bullet and numbered lists,
// [links](https://…) and bare http(s) URLs. Everything else — including any markup —
// stays text: nodes are only ever created with createElement/createTextNode.

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

const LIST = /^\s*(?:([-*•+])|(\d{1,3})[.)])\s+(.*)$/;

export function renderMarkdown(src: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  let para: string[] = [];
  let list: HTMLElement | null = null;
  let li: HTMLElement | null = null;

  const flush = () => {
    if (!para.length) return;
    const p = h("p");
    para.forEach((l, i) => {
      if (i) p.appendChild(h("br"));
      inline(l, p);
    });
    frag.appendChild(p);
    para = [];
  };

  for (const line of src.replace(/\r\n?/g, "\n").split("\n")) {
    const m = LIST.exec(line);
    if (m) {
      flush();
      const tag = m[1] ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag);
        if (m[2] && m[2] !== "1") list.setAttribute("start", String(+m[2]));
        frag.appendChild(list);
      }
      li = h("li");
      inline(m[3], li);
      list.appendChild(li);
    } else if (!line.trim()) {
      flush();
      list = li = null;
    } else if (li && /^\s{2,}\S/.test(line)) {
      li.appendChild(h("br"));
      inline(line.trim(), li);
    } else {
      list = li = null;
      para.push(line);
    }
  }
  flush();
  return frag;
}

/** Index of the `*` closing an italic span opened before `from`, skipping `**…**` and code. */
function closeItalic(s: string, from: number): number {
  for (let k = from; k < s.length; k++) {
    if (s[k] === "`") {
      const e = s.indexOf("`", k + 1);
      if (e > 0) k = e;
    } else if (s.startsWith("**", k)) {
      const e = s.indexOf("**", k + 2);
      if (e < 0) return -1;
      k = e + 1;
    } else if (s[k] === "*" && k > from && !/\s/.test(s[k - 1])) return k;
  }
  return -1;
}

function inline(s: string, out: Node, links = true): void {
  let text = "";
  const flush = () => {
    if (text) out.appendChild(document.createTextNode(text));
    text = "";
  };
  const put = (n: Node, len: number) => {
    flush();
    out.appendChild(n);
    return len;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const rest = s.slice(i);
    let m: RegExpExecArray | null;
    if (c === "\\" && /^\\[\\`*_[\]()]/.test(rest)) {
      text += s[i + 1];
      i += 2;
      continue;
    }
    if (c === "`") {
      const j = s.indexOf("`", i + 1);
      if (j > i + 1) {
        i += put(h("code", null, s.slice(i + 1, j)), j + 1 - i);
        continue;
      }
    }
    if (rest.startsWith("**") && s[i + 2] && !/\s/.test(s[i + 2])) {
      const j = s.indexOf("**", i + 3);
      if (j > 0 && !/\s/.test(s[j - 1])) {
        const b = h("strong");
        inline(s.slice(i + 2, j), b, links);
        i += put(b, j + 2 - i);
        continue;
      }
    }
    if (c === "*" && s[i + 1] && !/[\s*]/.test(s[i + 1])) {
      const j = closeItalic(s, i + 1);
      if (j > 0) {
        const e = h("em");
        inline(s.slice(i + 1, j), e, links);
        i += put(e, j + 1 - i);
        continue;
      }
    }
    if (links && c === "[" && (m = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(rest))) {
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
    if (links && (c === "h" || c === "H") && (i === 0 || /[\s(]/.test(s[i - 1])) && (m = /^https?:\/\/[^\s<>"]+/i.exec(rest))) {
      const u = m[0].replace(/[.,;:!?)\]'"]+$/, "");
      const href = safeUrl(u);
      if (href) {
        i += put(extLink(href, u), u.length);
        continue;
      }
    }
    text += c;
    i++;
  }
  flush();
}
