import type { ChatController, KeepstarApi, Listener } from "../shared/types";

export interface ApiHandle {
  api: KeepstarApi;
  emit(event: string, data?: unknown): void;
  /** Connects the loaded chat bundle and replays the queued calls in order. */
  attach(ctl: ChatController): void;
  /** Forgets queued calls (the bundle failed to load; the next click starts afresh). */
  drop(): void;
}

type Method = Exclude<keyof ChatController, "destroy">;

/**
 * `window.Keepstar`. Until the chat bundle is attached, calls are queued and (except
 * `close`, which is a no-op on a closed chat) ask the loader to fetch the bundle.
 */
export function createApi(load: () => void, destroy: () => void, version: string): ApiHandle {
  let ctl: ChatController | null = null;
  let dead = false;
  const queue: [Method, unknown[]][] = [];
  const listeners = new Map<string, Set<Listener>>();

  const call =
    (m: Method, wake = true) =>
    (...args: unknown[]) => {
      if (dead) return;
      if (ctl) (ctl[m] as (...a: unknown[]) => void)(...args);
      else {
        queue.push([m, args]);
        if (wake) load();
      }
    };

  const emit = (event: string, data?: unknown) => {
    for (const fn of [...(listeners.get(event) || [])]) {
      try {
        fn(data);
      } catch (e) {
        console.error("[keepstar]", e);
      }
    }
  };

  const api: KeepstarApi = {
    version,
    open: call("open"),
    close: call("close", false),
    toggle: call("toggle"),
    send: call("send"),
    identify: call("identify"),
    reset: call("reset"),
    on(event, fn) {
      if (typeof fn !== "function") return () => {};
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      return () => set!.delete(fn);
    },
    destroy() {
      if (dead) return;
      dead = true;
      queue.length = 0;
      ctl?.destroy();
      ctl = null;
      destroy();
      emit("destroy");
      listeners.clear();
    },
  };

  return {
    api,
    emit,
    attach(c) {
      if (dead) return c.destroy();
      ctl = c;
      for (const [m, args] of queue.splice(0)) (c[m] as (...a: unknown[]) => void)(...args);
    },
    drop() {
      queue.length = 0;
    },
  };
}
