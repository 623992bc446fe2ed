import { beforeEach, describe, expect, it } from "vitest";
import { Outbox, STALE } from "../src/chat/outbox";
import { tenantStore } from "../src/shared/storage";

let now = 1_000_000;
const clock = () => now;

beforeEach(() => {
  localStorage.clear();
  now = 1_000_000;
});

describe("Outbox", () => {
  it("keeps items in localStorage, one key per message, and sends oldest first", () => {
    const a = new Outbox(tenantStore("nike"), "tab-a", clock);
    a.add("c1", "one");
    now += 1;
    a.add("c2", "two");
    expect(Object.keys(localStorage).filter((k) => k.startsWith("keepstar:nike:out:")).sort()).toEqual(["keepstar:nike:out:c1", "keepstar:nike:out:c2"]);
    expect(a.tick()?.client_id).toBe("c1");
    a.remove("c1");
    expect(a.tick()?.client_id).toBe("c2");
  });

  it("holds an item until its due time without letting later ones overtake it", () => {
    const a = new Outbox(tenantStore("nike"), "tab-a", clock);
    a.add("c1", "one");
    now += 1;
    a.add("c2", "two");
    a.update("c1", { due: now + 5000 });
    expect(a.tick()).toBeNull();
    now += 5000;
    expect(a.tick()?.client_id).toBe("c1");
    a.update("c1", { due: now + 60000 });
    a.wake();
    expect(a.tick()?.client_id).toBe("c1");
  });

  it("never sends another live tab's item", () => {
    const a = new Outbox(tenantStore("nike"), "tab-a", clock);
    const b = new Outbox(tenantStore("nike"), "tab-b", clock);
    a.add("c1", "from a");
    expect(b.tick()).toBeNull();
    now += STALE - 1000;
    a.tick(); // a's heartbeat
    now += 5000;
    expect(b.tick()).toBeNull();
    expect(b.mine()).toEqual([]);
  });

  it("adopts an orphan in one tab only, sending it on the tick after the claim", () => {
    const a = new Outbox(tenantStore("nike"), "tab-a", clock);
    a.add("c1", "orphan");
    a.leave(); // tab a closed
    const b = new Outbox(tenantStore("nike"), "tab-b", clock);
    const c = new Outbox(tenantStore("nike"), "tab-c", clock);
    expect(b.tick()).toBeNull(); // claims
    expect(b.mine().map((i) => i.client_id)).toEqual(["c1"]);
    expect(c.tick()).toBeNull(); // b is alive: c leaves it alone
    expect(c.mine()).toEqual([]);
    expect(b.tick()?.client_id).toBe("c1");
  });

  it("treats a tab silent for longer than STALE as gone", () => {
    const a = new Outbox(tenantStore("nike"), "tab-a", clock);
    a.add("c1", "x");
    now += STALE + 1;
    const b = new Outbox(tenantStore("nike"), "tab-b", clock);
    b.tick();
    expect(b.tick()?.client_id).toBe("c1");
  });

  it("keeps tenants apart", () => {
    new Outbox(tenantStore("nike"), "tab-a", clock).add("c1", "x");
    expect(new Outbox(tenantStore("adidas"), "tab-a", clock).tick()).toBeNull();
  });
});
