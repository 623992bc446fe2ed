// The offline queue, persisted per tenant so a reload, a crash or a lost connection
// loses no message. One localStorage key per message (`out:<client_id>`) so tabs never
// overwrite each other's items. Each item belongs to the tab that created it (the tab
// id lives in sessionStorage and survives a reload) and only the owner sends it. Every
// tab writes a heartbeat (`tab:<id>`); items whose owner has been silent for STALE ms
// are adopted: the adopting tab writes its id into them and sends them on a later tick
// only if the claim is still its own. The server is idempotent on client_id as well.

import type { Store } from "../shared/storage";

export interface OutItem {
  client_id: string;
  text: string;
  tab: string;
  /** Creation time: the send order. */
  ts: number;
  /** Not before this time (backoff, Retry-After). */
  due: number;
  tries: number;
}

export const STALE = 20000;

export class Outbox {
  private swept = false;

  constructor(
    private store: Store,
    readonly tab: string,
    private now: () => number = Date.now,
  ) {}

  private items(): OutItem[] {
    return this.store
      .names("out:")
      .map((n) => this.store.get<OutItem>(n))
      .filter((i): i is OutItem => !!i && typeof i.client_id === "string")
      .sort((a, b) => a.ts - b.ts);
  }

  private put(i: OutItem): void {
    this.store.set("out:" + i.client_id, i);
  }

  add(client_id: string, text: string): OutItem {
    this.beat();
    const item: OutItem = { client_id, text, tab: this.tab, ts: this.now(), due: 0, tries: 0 };
    this.put(item);
    return item;
  }

  get(client_id: string): OutItem | undefined {
    return this.store.get<OutItem>("out:" + client_id);
  }

  update(client_id: string, patch: Partial<OutItem>): void {
    const i = this.get(client_id);
    if (i) this.put({ ...i, ...patch });
  }

  remove(client_id: string): void {
    this.store.del("out:" + client_id);
  }

  /** This tab's items, oldest first. */
  mine(): OutItem[] {
    return this.items().filter((i) => i.tab === this.tab);
  }

  private beat(): void {
    this.store.set("tab:" + this.tab, this.now());
  }

  /** Forget this tab (on destroy): its items become adoptable at once. */
  leave(): void {
    this.store.del("tab:" + this.tab);
  }

  /**
   * One heartbeat: marks this tab alive, adopts orphans, and returns the next item to send —
   * the oldest own item if it is due (later ones wait, so the order is kept).
   */
  tick(): OutItem | null {
    const t = this.now();
    this.beat();
    if (!this.swept) {
      this.swept = true;
      for (const n of this.store.names("tab:")) if (t - (this.store.get<number>(n) || 0) > 864e5) this.store.del(n);
    }
    let next: OutItem | null = null;
    for (const i of this.items()) {
      if (i.tab !== this.tab) {
        const seen = this.store.get<number>("tab:" + i.tab);
        if (typeof seen === "number" && t - seen < STALE) continue;
        // Claimed now, sent on a later tick if the claim is still ours.
        this.put({ ...i, tab: this.tab });
        continue;
      }
      next = next || i;
    }
    return next && next.due <= t ? next : null;
  }

  /** Makes every own item due now (the browser came back online). */
  wake(): void {
    for (const i of this.mine()) if (i.due) this.put({ ...i, due: 0 });
  }
}
