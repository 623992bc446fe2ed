#!/usr/bin/env python3
"""Admin pages benchmark: builds a store of 50 tenants, 100 000 conversations and 1 000 000
messages (30 % with a first-token time, some handed over, searches and misses) in a fresh
keepstar dir, serves it with the given binary, signs in through a one-time link and reports
p50/p99 of the overview, the conversation list, a transcript, a full-text search and the analytics,
what else the machine was doing meanwhile, and the cost of one Argon2id password check.

    cargo build --release
    python3 benches/support/admin_store.py --bin target/release/keepstar [--dir /tmp/ks-admin]

The rollup is recomputed with the backfill SQL of migrations/V005 (the same SQL a migrated
database ran), so the figures are what keepstar itself would have kept. An existing --dir is
reused (building the store takes a minute or two). See docs/BENCHMARKS.md.
"""

import argparse, json, os, random, re, sqlite3, subprocess, sys, time, urllib.request, urllib.parse
from http.client import HTTPConnection

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WORDS = ("tent sleeping bag stove lantern jacket boots grinder kettle beans filter trail map "
         "rain waterproof warm light ultralight budget price delivery return order size "
         "palatka spalnik fonar kurtka chainik").split()
DAY = 86_400_000


def cli(bin_, d, *args):
    return subprocess.run([bin_, "--config", os.path.join(d, "keepstar.toml"), *args],
                          check=True, capture_output=True, text=True).stdout


def build(bin_, d, tenants, conversations, per_conv):
    os.makedirs(d)
    port = 18000 + random.randrange(1000)
    cli(bin_, d, "init", "--public-url", f"http://127.0.0.1:{port}")
    toml = os.path.join(d, "keepstar.toml")
    open(toml, "w").write(re.sub(r"(?m)^listen = .*$", f"listen = \"127.0.0.1:{port}\"", open(toml).read()))
    cli(bin_, d, "migrate")
    db = sqlite3.connect(os.path.join(d, "data", "keepstar.db"))
    now = int(time.time() * 1000)
    db.execute("BEGIN")
    for i in range(tenants):
        db.execute("INSERT INTO tenants (slug, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                   (f"t{i:02}", f"Tenant {i}", now, now))
    ids = [r[0] for r in db.execute("SELECT id FROM tenants ORDER BY id")]
    rnd = random.Random(7)
    msg = 0
    for n in range(conversations):
        t = ids[n % len(ids)]
        start = now - int((conversations - n) / conversations * 60 * DAY)
        db.execute("INSERT INTO visitors (tenant_id, token_hash, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)",
                   (t, os.urandom(32), start, start))
        v = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        status = rnd.choices(["ai", "waiting_human", "human", "closed"], [80, 3, 2, 15])[0]
        handed = start if status in ("waiting_human", "human") or rnd.random() < 0.03 else None
        at = start
        db.execute("INSERT INTO conversations (public_id, tenant_id, visitor_id, status, page_url, created_at, updated_at, handed_over_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (f"c_bench{n:07}", t, v, status, "https://shop.example/p", start, start + per_conv * 20_000, handed))
        c = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        for k in range(per_conv):
            msg += 1
            role = "visitor" if k % 2 == 0 else "assistant"
            text = " ".join(rnd.choices(WORDS, k=rnd.randint(4, 14)))
            ft = rnd.randint(150, 2500) if role == "assistant" and rnd.random() < 0.6 else None
            db.execute("INSERT INTO messages (public_id, tenant_id, conversation_id, role, text, first_token_ms,"
                       " prompt_tokens, completion_tokens, cost_micros, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (f"m_bench{msg:08}", t, c, role, text, ft, 800 if ft else None, 60 if ft else None,
                        150 if ft else None, at))
            at += 20_000
            if role == "visitor" and rnd.random() < 0.2:
                found = 0 if rnd.random() < 0.2 else rnd.randint(1, 6)
                q = " ".join(rnd.choices(WORDS, k=2))
                db.execute("INSERT INTO searches (tenant_id, query, found, created_at) VALUES (?, ?, ?, ?)", (t, q, found, at))
                if not found:
                    db.execute("INSERT INTO search_misses (tenant_id, query, created_at) VALUES (?, ?, ?)", (t, q, at))
        if n % 10_000 == 9_999:
            print(f"  {n + 1} conversations", file=sys.stderr)
    # The rollup, as V005's backfill computes it.
    sql = open(os.path.join(REPO, "migrations", "V005__message_search.sql")).read()
    backfill = sql[sql.index("-- Backfill the rollup"):]
    db.execute("DELETE FROM analytics_daily")
    db.execute("DELETE FROM first_token_daily")
    db.commit()
    db.executescript(backfill)
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return port


def cpu_ticks(pid=None):
    """(busy, all) clock ticks of the machine, or (busy, 0) of one process, so far."""
    if pid is not None:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12]), 0
    f = [int(x) for x in open("/proc/stat").readline().split()[1:8]]
    return sum(f) - f[3] - f[4], sum(f)


def load_report(before, server_pid):
    """What else the machine did while the pages were timed: the CPU it spent besides this
    bench's server and client, in cores, and the load average."""
    (busy0, all0), (srv0, _), cli0 = before
    busy1, all1 = cpu_ticks()
    srv1, _ = cpu_ticks(server_pid)
    t = os.times()
    cli1 = t.user + t.system
    cores = os.cpu_count()
    wall = (all1 - all0) / cores  # ticks of one core
    hz = os.sysconf("SC_CLK_TCK")
    other = (busy1 - busy0 - (srv1 - srv0) - (cli1 - cli0) * hz) / wall
    return (f"machine while timing: {cores} cores, {(busy1 - busy0) / wall:.2f} busy, of which "
            f"{other:.2f} not this bench (server {(srv1 - srv0) / wall:.2f}, client "
            f"{(cli1 - cli0) * hz / wall:.2f}); loadavg {open('/proc/loadavg').read().split()[0]}")


def password_cost(bin_, d, email, runs):
    """One Argon2id run as keepstar makes it: `admin set --password-stdin` (one hash) minus
    `admin set --name` (the same process, store and audit write without a hash), medians."""
    def timed(args, stdin=None):
        t0 = time.perf_counter()
        subprocess.run([bin_, "--config", os.path.join(d, "keepstar.toml"), "admin", "set", email, *args],
                       input=stdin, check=True, capture_output=True, text=True)
        return (time.perf_counter() - t0) * 1000
    plain, hashed = [], []
    for i in range(runs):
        plain.append(timed(["--name", f"Bench {i}"]))
        hashed.append(timed(["--password-stdin"], f"a bench password number {i}\n"))
    med = lambda xs: sorted(xs)[len(xs) // 2]
    return med(hashed) - med(plain), med(plain)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--bin", default=os.path.join(REPO, "target", "release", "keepstar"))
    a.add_argument("--dir", default="/tmp/keepstar-admin-bench")
    a.add_argument("--tenants", type=int, default=50)
    a.add_argument("--conversations", type=int, default=100_000)
    a.add_argument("--messages-per-conversation", type=int, default=10)
    a.add_argument("--runs", type=int, default=200)
    a.add_argument("--password-runs", type=int, default=15)
    o = a.parse_args()
    if not os.path.exists(o.dir):
        t0 = time.time()
        build(o.bin, o.dir, o.tenants, o.conversations, o.messages_per_conversation)
        print(f"built the store in {time.time() - t0:.0f} s", file=sys.stderr)
    url = re.search(r'public_url\s*=\s*"([^"]+)"', open(os.path.join(o.dir, "keepstar.toml")).read()).group(1)
    port = int(url.rsplit(":", 1)[1])
    server = subprocess.Popen([o.bin, "--config", os.path.join(o.dir, "keepstar.toml"), "serve"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        try:
            cli(o.bin, o.dir, "admin", "add", "bench@shop.example", "--role", "owner")
        except subprocess.CalledProcessError:
            pass
        link = re.search(r"https?://\S+", cli(o.bin, o.dir, "admin", "link", "bench@shop.example")).group(0)
        token = link.rsplit("/", 1)[1]
        h = HTTPConnection("127.0.0.1", port)
        h.request("POST", "/admin/link", body=urllib.parse.urlencode({"token": token}),
                  headers={"Origin": url, "Content-Type": "application/x-www-form-urlencoded"})
        r = h.getresponse(); r.read()
        cookie = r.getheader("Set-Cookie").split(";")[0]
        one_tenant = [r for r in ["t07"]][0]
        pages = {
            "overview": "/admin",
            "conversations (all tenants)": "/admin/conversations",
            "conversations (one tenant, closed)": f"/admin/conversations?tenant={one_tenant}&status=closed",
            "transcript": "/admin/conversations/c_bench0099999",
            "search, common word (all tenants)": "/admin/conversations?q=tent",
            "search, two words, one tenant": f"/admin/conversations?tenant={one_tenant}&q=waterproof+kettle",
            "search, no match": "/admin/conversations?q=zzzqqq",
            "analytics (one tenant)": f"/admin/analytics/{one_tenant}",
        }
        t = os.times()
        before = (cpu_ticks(), cpu_ticks(server.pid), t.user + t.system)
        print(f"| page | p50 ms | p99 ms |\n|---|---:|---:|")
        for name, path in pages.items():
            times = []
            for i in range(o.runs + 10):
                t0 = time.perf_counter()
                h.request("GET", path, headers={"Cookie": cookie})
                r = h.getresponse(); body = r.read()
                if r.status != 200:
                    raise SystemExit(f"{path}: {r.status} {body[:200]}")
                if i >= 10:
                    times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p = lambda q: times[min(len(times) - 1, int(round((len(times) - 1) * q)))]
            print(f"| {name} | {p(0.5):.1f} | {p(0.99):.1f} |")
        print(load_report(before, server.pid))
        if o.password_runs:
            cost, base = password_cost(o.bin, o.dir, "bench@shop.example", o.password_runs)
            print(f"password check (Argon2id, one run): {cost:.1f} ms "
                  f"(`admin set --password-stdin` minus `admin set --name`, {base:.1f} ms)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
