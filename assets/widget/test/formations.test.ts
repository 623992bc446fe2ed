import { describe, expect, it, vi } from "vitest";
import { renderFormation, type Formation, type FormationContext } from "../src/chat/formations";
import { STRINGS } from "../src/chat/i18n";

const item = (n: number, extra: object = {}) => ({
  id: `p_${n}`,
  title: `Shoe ${n}`,
  subtitle: "Nike · Sneakers",
  image: `https://img.example/${n}.jpg`,
  price: { amount: 1299000, currency: "RUB", display: "12 990 ₽" },
  compare_at: { amount: 1499000, currency: "RUB", display: "14 990 ₽" },
  rating: 4.7,
  badges: ["New", "Hit", "Extra"],
  url: `https://shop.example/p/${n}`,
  ...extra,
});

function ctx(over: Partial<FormationContext> = {}): FormationContext & { sent: string[] } {
  const sent: string[] = [];
  return { t: STRINGS.en, send: (t) => sent.push(t), detail: vi.fn(), sent, ...over } as FormationContext & { sent: string[] };
}

function render(f: Formation, c = ctx()) {
  const el = renderFormation(f, c);
  document.body.replaceChildren(el);
  return el;
}

const cards = (layout: string, items = [item(1), item(2), item(3)]): Formation => ({
  v: 1,
  kind: "cards",
  layout,
  title: "Running shoes",
  items,
  fallback_text: "1. Shoe 1",
});

describe("cards", () => {
  for (const layout of ["grid", "list", "carousel"]) {
    it(`renders a ${layout}`, () => {
      const el = render(cards(layout));
      const root = el.querySelector(".cards")!;
      expect(root.getAttribute("data-layout")).toBe(layout);
      expect(root.classList.contains(layout)).toBe(true);
      expect(el.querySelector(".fh")!.textContent).toBe("Running shoes");
      const cs = el.querySelectorAll(".cd");
      expect(cs.length).toBe(3);
      const c = cs[0];
      expect(c.getAttribute("part")).toBe("card");
      expect(c.querySelector(".ti")!.textContent).toBe("Shoe 1");
      expect(c.querySelector(".su")!.textContent).toBe("Nike · Sneakers");
      expect(c.querySelector(".pr b")!.textContent).toBe("12 990 ₽");
      expect(c.querySelector(".pr s")!.textContent).toBe("14 990 ₽");
      expect(c.querySelector(".rt")!.getAttribute("aria-label")).toBe("Rating 4.7 out of 5");
      expect(c.querySelector(".rt .st")!.textContent).toBe("★★★★★");
      expect([...c.querySelectorAll(".bg span")].map((s) => s.textContent)).toEqual(["New", "Hit"]);
      const img = c.querySelector("img")!;
      expect(img.getAttribute("src")).toBe("https://img.example/1.jpg");
      expect(img.getAttribute("loading")).toBe("lazy");
      const open = c.querySelector("a")!;
      expect(open.textContent).toBe("Open");
      expect(open.getAttribute("href")).toBe("https://shop.example/p/1");
      expect(open.getAttribute("target")).toBe("_blank");
      expect(open.getAttribute("rel")).toBe("noopener noreferrer");
      expect(c.querySelector("button")!.textContent).toBe("Details");
    });
  }

  it("gives the carousel arrow buttons and keyboard arrows", () => {
    const el = render(cards("carousel"));
    const track = el.querySelector<HTMLElement>(".tr")!;
    expect(track.tabIndex).toBe(0);
    const prev = el.querySelector<HTMLButtonElement>(".nv.pv")!;
    const next = el.querySelector<HTMLButtonElement>(".nv.nx")!;
    expect(prev.getAttribute("aria-label")).toBe("Previous");
    expect(next.getAttribute("aria-label")).toBe("Next");
    const calls: number[] = [];
    track.scrollBy = ((o: ScrollToOptions) => calls.push(o.left!)) as typeof track.scrollBy;
    next.click();
    prev.click();
    const right = new KeyboardEvent("keydown", { key: "ArrowRight", cancelable: true });
    track.dispatchEvent(right);
    track.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft" }));
    track.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(calls.length).toBe(4);
    expect(calls.map(Math.sign)).toEqual([1, -1, 1, -1]);
    expect(right.defaultPrevented).toBe(true);
  });

  it("shows a placeholder for a missing, non-http or broken image", () => {
    const el = render(cards("grid", [item(1, { image: null }), item(2, { image: "javascript:alert(1)" }), item(3)]));
    const boxes = el.querySelectorAll(".im");
    expect(boxes[0].querySelector(".ph")).not.toBeNull();
    expect(boxes[1].querySelector(".ph")).not.toBeNull();
    expect(boxes[1].querySelector("img")).toBeNull();
    const img = boxes[2].querySelector("img")!;
    img.dispatchEvent(new Event("error"));
    expect(boxes[2].querySelector("img")).toBeNull();
    expect(boxes[2].querySelector(".ph")).not.toBeNull();
  });

  it("never links non-http(s) product URLs", () => {
    const el = render(
      cards("grid", [
        item(1, { url: "javascript:alert(1)" }),
        item(2, { url: "data:text/html,x", actions: [{ kind: "link", url: "vbscript:x" }] }),
      ]),
    );
    expect(el.querySelectorAll("a").length).toBe(0);
    expect(el.querySelectorAll("button").length).toBe(1); // Details of item 1 only
  });

  it("keeps server text as text", () => {
    const el = render(cards("grid", [item(1, { title: "<img src=x onerror=alert(1)>", badges: ["<b>x</b>"] })]));
    expect(el.querySelector(".ti")!.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(el.querySelectorAll("img").length).toBe(1);
    expect(el.querySelectorAll("b").length).toBe(1); // the price only
    expect(el.querySelector(".bg span")!.textContent).toBe("<b>x</b>");
  });

  it("runs ask actions and swaps in the detail formation with a Back button", async () => {
    const detail: Formation = { kind: "detail", item: { ...item(1), description: "Light.\nFast.", attributes: { Size: "42", Colour: "Red" } } };
    const c = ctx({ detail: vi.fn(async () => detail) });
    const el = render(cards("grid", [item(1, { actions: [{ kind: "detail" }, { kind: "ask", text: "Show similar" }] })]), c);
    const [details, ask] = [...el.querySelectorAll<HTMLButtonElement>(".cd button")];
    ask.click();
    expect(c.sent).toEqual(["Show similar"]);
    details.click();
    await vi.waitFor(() => expect(el.querySelector(".dt")).not.toBeNull());
    expect(c.detail).toHaveBeenCalledWith("p_1");
    expect(el.querySelector(".cards")).toBeNull();
    const back = el.querySelector<HTMLButtonElement>(".bk")!;
    expect(back.textContent).toBe("Back");
    back.click();
    expect(el.querySelector(".dt")).toBeNull();
    expect(el.querySelectorAll(".cd").length).toBe(1);
  });

  it("reports a failed detail fetch and keeps the cards", async () => {
    const c = ctx({ detail: vi.fn(async () => Promise.reject(new Error("404"))) });
    const el = render(cards("grid", [item(1)]), c);
    el.querySelector<HTMLButtonElement>(".cd button")!.click();
    await vi.waitFor(() => expect(el.querySelector(".fe")).not.toBeNull());
    expect(el.querySelector(".fe")!.textContent).toBe("Could not load the details.");
    expect(el.querySelectorAll(".cd").length).toBe(1);
  });
});

describe("detail", () => {
  it("renders gallery, price, description and attributes as a two-column table", () => {
    const el = render({
      kind: "detail",
      item: {
        ...item(1),
        images: ["https://img.example/a.jpg", "https://img.example/b.jpg", "ftp://bad"],
        availability: "In stock",
        description: "Light.\nFast.",
        attributes: [
          { name: "Size", value: "42" },
          { name: "Weight", value: 280 },
          { name: "", value: "dropped" },
        ],
      },
    });
    const d = el.querySelector(".dt")!;
    expect(d.querySelector(".ti")!.textContent).toBe("Shoe 1");
    expect(d.querySelector(".pr b")!.textContent).toBe("12 990 ₽");
    expect(d.querySelector(".av")!.textContent).toBe("In stock");
    expect(d.querySelector(".ds")!.textContent).toBe("Light.\nFast.");
    const rows = [...d.querySelectorAll("table.at tr")].map((r) => [...r.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ["Size", "42"],
      ["Weight", "280"],
    ]);
    const thumbs = d.querySelectorAll<HTMLButtonElement>(".gt button");
    expect(thumbs.length).toBe(2);
    thumbs[1].click();
    expect(d.querySelector(".gm img")!.getAttribute("src")).toBe("https://img.example/b.jpg");
    expect(d.querySelector(".gm img")!.getAttribute("alt")).toBe("Shoe 1");
    expect([...d.querySelectorAll("button")].some((b) => b.textContent === "Details")).toBe(false);
    expect(d.querySelector("a")!.getAttribute("href")).toBe("https://shop.example/p/1");
  });
});

describe("comparison", () => {
  it("puts items in columns and emphasises differing rows (explicit rows)", () => {
    const el = render({
      kind: "comparison",
      title: "Compare",
      items: [item(1), item(2)],
      rows: [
        { label: "Brand", values: ["Nike", "Nike"] },
        { label: "Weight", values: ["280 g", "310 g"] },
      ],
    });
    const head = [...el.querySelectorAll("thead th")].map((th) => th.querySelector(".ti")!.textContent);
    expect(head).toEqual(["Shoe 1", "Shoe 2"]);
    const rows = [...el.querySelectorAll("tbody tr")];
    expect(rows.map((r) => r.querySelector("th")!.textContent)).toEqual(["Brand", "Weight"]);
    expect(rows.map((r) => r.classList.contains("df"))).toEqual([false, true]);
    expect([...rows[1].querySelectorAll("td")].map((td) => td.textContent)).toEqual(["280 g", "310 g"]);
  });

  it("derives rows from item attributes, marking missing values", () => {
    const el = render({
      kind: "comparison",
      items: [item(1, { attributes: { Size: "42", Colour: "Red" } }), item(2, { attributes: { Size: "42" } })],
    });
    const rows = [...el.querySelectorAll("tbody tr")].map((r) => [r.className, ...[...r.children].map((c) => c.textContent)]);
    expect(rows).toEqual([
      ["", "Size", "42", "42"],
      ["df", "Colour", "Red", "—"],
    ]);
  });
});

describe("quick replies", () => {
  it("sends the chosen text and disappears", () => {
    const c = ctx();
    const host = document.createElement("div");
    host.appendChild(renderFormation({ kind: "quick_replies", options: ["Yes", { text: "no_thanks", label: "No, thanks" }] }, c));
    document.body.replaceChildren(host);
    const chips = host.querySelectorAll<HTMLButtonElement>(".chip");
    expect([...chips].map((b) => b.textContent)).toEqual(["Yes", "No, thanks"]);
    chips[1].click();
    expect(c.sent).toEqual(["no_thanks"]);
    expect(host.querySelector(".qr")).toBeNull();
  });
});

describe("fallback", () => {
  it("renders fallback_text as plain text for unknown kinds", () => {
    const el = render({ kind: "map", fallback_text: "**Store**: <b>Main st.</b>" } as Formation);
    expect(el.querySelector(".fb")!.textContent).toBe("**Store**: <b>Main st.</b>");
    expect(el.querySelector("b, strong")).toBeNull();
  });

  it("falls back when a known kind has nothing to show", () => {
    expect(render({ kind: "cards", items: [], fallback_text: "nothing" }).textContent).toBe("nothing");
    expect(render({ kind: "comparison", items: [item(1)], fallback_text: "one" }).textContent).toBe("one");
  });
});
