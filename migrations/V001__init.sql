-- keepstar data model (SPEC §3). Times are Unix milliseconds (UTC).
-- Internal ids are INTEGER rowids; anything shown outside the process uses `public_id`.
-- Every row that belongs to a tenant carries tenant_id, and removing a tenant removes its rows.

CREATE TABLE tenants (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    locale          TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'ru')),
    currency        TEXT NOT NULL DEFAULT 'USD',
    -- branding
    greeting        TEXT,
    color           TEXT,
    position        TEXT NOT NULL DEFAULT 'right' CHECK (position IN ('right', 'left')),
    logo_url        TEXT,
    launcher_text   TEXT,
    -- JSON array of normalised origins ("https://shop.example", "https://*.shop.example")
    origins         TEXT NOT NULL DEFAULT '[]',
    -- who answers (SPEC §8)
    provider        TEXT NOT NULL DEFAULT 'builtin'
                    CHECK (provider IN ('builtin', 'openai', 'anthropic', 'n8n', 'webhook')),
    model           TEXT,
    base_url        TEXT,
    api_key_env     TEXT,
    api_key_sealed  BLOB,           -- provider key encrypted with the config's encryption key
    webhook_url     TEXT,
    system_prompt   TEXT,
    temperature     REAL,
    max_tokens      INTEGER,
    -- limits
    rate_limit_per_minute INTEGER,
    monthly_budget_micros INTEGER,
    retention_days  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE,              -- "key_…", what `key list` shows and `key revoke` takes
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('public', 'secret')),
    prefix       TEXT NOT NULL,                     -- first characters of the key, for lookup and display
    hash         BLOB NOT NULL UNIQUE,              -- SHA-256 of the whole key
    public_key   TEXT,                              -- public keys only: they are published in pages anyway
    label        TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    CHECK ((kind = 'public') = (public_key IS NOT NULL))
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE visitors (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE,             -- SHA-256 of the random secret the widget keeps
    attributes    TEXT NOT NULL DEFAULT '{}',
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX visitors_tenant ON visitors (tenant_id);

CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT,
    password_hash TEXT NOT NULL,                    -- Argon2id PHC string
    role          TEXT NOT NULL CHECK (role IN ('owner', 'operator')),
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

-- which tenants an operator serves (owners serve all)
CREATE TABLE admin_user_tenants (
    admin_user_id INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    PRIMARY KEY (admin_user_id, tenant_id)
);

CREATE TABLE admin_sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    admin_user_id INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    public_id     TEXT NOT NULL UNIQUE,             -- "c_…"
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    visitor_id    INTEGER NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'ai' CHECK (status IN ('ai', 'waiting_human', 'human', 'closed')),
    assignee_id   INTEGER REFERENCES admin_users (id) ON DELETE SET NULL,
    page_url      TEXT,
    page_title    TEXT,
    locale        TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    closed_at     INTEGER
);
CREATE INDEX conversations_tenant ON conversations (tenant_id, updated_at);
CREATE INDEX conversations_visitor ON conversations (visitor_id, updated_at);

CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT NOT NULL UNIQUE,         -- "m_…"
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id   INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('visitor', 'assistant', 'operator', 'system')),
    text              TEXT NOT NULL,
    formation         TEXT,                         -- JSON (SPEC §6)
    client_id         TEXT,                         -- the widget's idempotency key
    status            TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'interrupted', 'failed')),
    operator_id       INTEGER REFERENCES admin_users (id) ON DELETE SET NULL,
    responder         TEXT,                         -- which responder wrote an assistant message
    first_token_ms    INTEGER,
    latency_ms        INTEGER,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    cost_micros       INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_tenant ON messages (tenant_id, created_at);

-- Catalog. search_title/search_body hold stemmed words (computed by keepstar) so that
-- "палатки" finds "палатка"; FTS5 indexes them as an external-content table.
CREATE TABLE products (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE,              -- "p_…"
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sku          TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    price        INTEGER,                           -- minor units
    compare_at   INTEGER,                           -- minor units, the old price
    currency     TEXT NOT NULL,
    url          TEXT,
    image        TEXT,
    category     TEXT,
    brand        TEXT,
    rating       REAL,
    attributes   TEXT NOT NULL DEFAULT '{}',
    search_title TEXT NOT NULL DEFAULT '',
    search_body  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, sku)
);
CREATE INDEX products_tenant_price ON products (tenant_id, price);

CREATE VIRTUAL TABLE products_fts USING fts5 (
    search_title, search_body,
    content = 'products', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_title, search_body)
    VALUES ('delete', old.id, old.search_title, old.search_body);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF search_title, search_body ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_title, search_body)
    VALUES ('delete', old.id, old.search_title, old.search_body);
    INSERT INTO products_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;

CREATE TABLE kb_entries (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE,              -- "kb_…"
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    search_title TEXT NOT NULL DEFAULT '',
    search_body  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX kb_entries_tenant ON kb_entries (tenant_id);

CREATE VIRTUAL TABLE kb_fts USING fts5 (
    search_title, search_body,
    content = 'kb_entries', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_entries BEGIN
    INSERT INTO kb_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;
CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_entries BEGIN
    INSERT INTO kb_fts (kb_fts, rowid, search_title, search_body)
    VALUES ('delete', old.id, old.search_title, old.search_body);
END;
CREATE TRIGGER kb_fts_update AFTER UPDATE OF search_title, search_body ON kb_entries BEGIN
    INSERT INTO kb_fts (kb_fts, rowid, search_title, search_body)
    VALUES ('delete', old.id, old.search_title, old.search_body);
    INSERT INTO kb_fts (rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END;

-- Searches that found nothing, for the site owner's analytics.
CREATE TABLE search_misses (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    query      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX search_misses_tenant ON search_misses (tenant_id, created_at);

CREATE TABLE analytics_daily (
    tenant_id          INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day                TEXT NOT NULL,               -- YYYY-MM-DD (UTC)
    conversations      INTEGER NOT NULL DEFAULT 0,
    messages           INTEGER NOT NULL DEFAULT 0,
    handoffs           INTEGER NOT NULL DEFAULT 0,
    first_token_ms_sum INTEGER NOT NULL DEFAULT 0,
    first_token_count  INTEGER NOT NULL DEFAULT 0,
    search_misses      INTEGER NOT NULL DEFAULT 0,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_micros        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

-- Who changed what. Kept when a tenant is removed, so tenant_id is nulled and the slug stays.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER REFERENCES tenants (id) ON DELETE SET NULL,
    tenant_slug TEXT,
    actor       TEXT NOT NULL,                      -- "cli:alice", "admin:bob@shop.example", "api:key_…"
    action      TEXT NOT NULL,                      -- "tenant.add", "key.issue", …
    target      TEXT,
    details     TEXT NOT NULL DEFAULT '{}',         -- JSON, never secrets
    created_at  INTEGER NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, created_at);
