// localStorage namespaced per tenant (`keepstar:<tenant>:<name>`). Storage can be
// missing or throw (private mode, sandboxed frames, quota): then values live in memory.

export interface Store {
  get<T>(name: string): T | undefined;
  set(name: string, value: unknown): void;
  del(name: string): void;
  /** The full localStorage key for `name` (to match `storage` events). */
  key(name: string): string;
  /** Names (without the tenant prefix) that start with `prefix`. */
  names(prefix: string): string[];
}

export function tenantStore(tenant: string, ls: Storage | null = safeLocalStorage()): Store {
  const mem = new Map<string, string>();
  const key = (n: string) => `keepstar:${tenant}:${n}`;
  const read = (k: string): string | null => {
    try {
      if (ls) return ls.getItem(k);
    } catch {
      /* fall through to memory */
    }
    return mem.get(k) ?? null;
  };
  return {
    key,
    names(prefix) {
      const full = key(prefix);
      const found = new Set<string>();
      try {
        if (ls) for (let i = 0; i < ls.length; i++) found.add(ls.key(i) || "");
      } catch {
        /* memory only */
      }
      for (const k of mem.keys()) found.add(k);
      return [...found].filter((k) => k.startsWith(full)).map((k) => k.slice(key("").length));
    },
    get<T>(n: string) {
      const raw = read(key(n));
      if (raw == null) return undefined;
      try {
        return JSON.parse(raw) as T;
      } catch {
        return undefined;
      }
    },
    set(n, v) {
      const k = key(n);
      const raw = JSON.stringify(v);
      mem.set(k, raw);
      try {
        ls?.setItem(k, raw);
      } catch {
        /* memory only */
      }
    },
    del(n) {
      const k = key(n);
      mem.delete(k);
      try {
        ls?.removeItem(k);
      } catch {
        /* ignore */
      }
    },
  };
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
