// DOM construction helpers. Every node is built with createElement/createTextNode;
// text always goes in as a text node, never parsed as markup.

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Creates an element with attributes (null/false are skipped) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  add(el, children);
  return el;
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const k in attrs) {
    const v = attrs[k];
    if (v == null || v === false) el.removeAttribute(k);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

/** Appends children; strings become text nodes. */
export function add(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** A decorative (aria-hidden) 24×24 SVG icon from path data. */
export function icon(d: string, cls?: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  setAttrs(svg, { viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false", class: cls });
  const p = document.createElementNS(SVG_NS, "path");
  p.setAttribute("d", d);
  p.setAttribute("fill", "currentColor");
  svg.appendChild(p);
  return svg;
}

/** A constructed stylesheet (CSP-safe: no style elements, no style attributes). */
export function sheet(css: string): CSSStyleSheet {
  const s = new CSSStyleSheet();
  s.replaceSync(css);
  return s;
}
