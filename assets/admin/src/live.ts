// The live inbox and a conversation's page. Both follow the inbox's events (the page's
// `[data-inbox]` list, a title badge and a notification for each new visitor waiting); a
// conversation's page also follows its own events (messages, the visitor typing). On news the
// page is fetched again and its `[data-part]` elements swapped in, so what is shown is always
// what the server renders; the forms marked `data-keep` (what is being typed) are swapped only
// by their own answer. The team's forms are sent with fetch; without this script they post and
// redirect as usual.

type Handlers = Record<string, (data: Record<string, unknown>) => void>;

function follow(url: string, on: Handlers): void {
  const events = new EventSource(url);
  for (const [name, handle] of Object.entries(on)) {
    events.addEventListener(name, (e) => {
      // A connection `error` carries no data; the stream reconnects by itself.
      const data = (e as MessageEvent).data;
      if (typeof data === "string") handle(JSON.parse(data));
    });
  }
}

/** Replaces the page's parts with those of `html` (and the kept forms too when `all`). */
function swap(doc: Document, html: string, all: boolean): void {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  for (const old of doc.querySelectorAll<HTMLElement>(all ? "[data-part],[data-keep]" : "[data-part]")) {
    const next = old.id && fresh.getElementById(old.id);
    if (next) old.replaceWith(doc.importNode(next, true));
  }
}

export function live(doc: Document): void {
  const list = doc.querySelector<HTMLElement>("[data-inbox]");
  const panel = doc.querySelector<HTMLElement>("[data-conversation]");
  if (!list && !panel) return;
  const id = panel?.dataset.conversation;
  const title = doc.title;
  const waiting = new Set<string>();
  const badge = (): void => {
    const n = list ? doc.querySelectorAll(".inbox-row.waiting_human").length : waiting.size;
    doc.title = n ? `(${n}) ${title}` : title;
  };

  let fetching = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const res = await fetch(location.href, { headers: { accept: "text/html" } });
      if (res.ok) swap(doc, await res.text(), false);
    } finally {
      fetching = false;
      badge();
      if (again) {
        again = false;
        void refresh();
      }
    }
  };

  const notify = doc.getElementById("notify");
  if (notify && "Notification" in window && Notification.permission === "default") {
    notify.hidden = false;
    notify.addEventListener("click", () => void Notification.requestPermission().then(() => (notify.hidden = true)));
  }

  follow("/admin/inbox/events", {
    conversation: (d) => {
      const c = String(d.conversation);
      if (d.status === "waiting_human") {
        if (!waiting.has(c) && "Notification" in window && Notification.permission === "granted") {
          new Notification(title, { body: String(d.text ?? ""), tag: c });
        }
        waiting.add(c);
      } else waiting.delete(c);
      if (list || c === id) void refresh();
      else badge();
    },
    note: (d) => void (d.conversation === id && refresh()),
    reset: () => void refresh(),
  });

  if (!panel) return;
  const typing = doc.getElementById("typing");
  const changed = (): void => void refresh();
  follow(panel.dataset.events ?? "", {
    message: changed,
    done: changed,
    handoff: changed,
    error: changed,
    typing: (d) => {
      if (typing && d.role === "visitor") typing.hidden = !d.on;
    },
  });

  doc.addEventListener("submit", async (e) => {
    const form = e.target as HTMLFormElement;
    if (!form.action.includes("/admin/conversations/")) return;
    e.preventDefault();
    const focused = doc.activeElement?.id;
    const res = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form) as never) });
    swap(doc, await res.text(), true);
    if (focused) doc.getElementById(focused)?.focus();
  });

  // Enter sends, Shift+Enter is a new line; `/shortcut` picks a ready answer; typing is told.
  let told = 0;
  const canned = (): HTMLElement | null => doc.getElementById("canned");
  const shown = (): HTMLButtonElement[] =>
    [...(canned()?.querySelectorAll<HTMLButtonElement>("button") ?? [])].filter((b) => !b.parentElement?.hidden);
  const pick = (reply: HTMLTextAreaElement, b: HTMLButtonElement): void => {
    reply.value = b.dataset.text ?? "";
    canned()!.hidden = true;
    reply.focus();
  };
  doc.addEventListener("keydown", (e) => {
    const reply = e.target;
    if (!(reply instanceof HTMLTextAreaElement) || reply.id !== "reply") return;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    const first = canned()?.hidden === false ? shown()[0] : undefined;
    if (first) pick(reply, first);
    else reply.form?.requestSubmit();
  });
  doc.addEventListener("input", (e) => {
    const reply = e.target;
    if (!(reply instanceof HTMLTextAreaElement) || reply.id !== "reply") return;
    const list = canned();
    const query = /^\/(\S*)$/.exec(reply.value)?.[1];
    if (list) {
      for (const b of list.querySelectorAll<HTMLButtonElement>("button")) {
        b.parentElement!.hidden = query === undefined || !b.dataset.shortcut!.startsWith(query);
      }
      list.hidden = query === undefined || !shown().length;
    }
    const url = reply.dataset.typing;
    const csrf = reply.form?.querySelector<HTMLInputElement>("input[name=csrf]")?.value;
    if (url && csrf && Date.now() - told > 3000) {
      told = Date.now();
      void fetch(url, { method: "POST", body: new URLSearchParams({ csrf, on: "1" }) });
    }
  });
  doc.addEventListener("click", (e) => {
    const b = (e.target as Element).closest?.<HTMLButtonElement>("#canned button");
    const reply = doc.getElementById("reply");
    if (b && reply instanceof HTMLTextAreaElement) pick(reply, b);
  });
  badge();
}
