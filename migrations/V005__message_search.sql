-- The admin's conversation pages and analytics: a full-text index over message text, when a
-- conversation was first handed to the team, the searches visitors made, and the daily rollup
-- (analytics_daily) filled for every figure, with a first-token histogram for its quantiles.

-- Full-text search over what was said (external content: the text is stored once, in messages).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- The conversation list, newest first across tenants (one tenant uses conversations_tenant).
CREATE INDEX conversations_updated ON conversations (updated_at, id);

-- When the conversation first went to the team (the visitor asked, or the AI handed it over).
ALTER TABLE conversations ADD COLUMN handed_over_at INTEGER;
UPDATE conversations SET handed_over_at = updated_at
WHERE status IN ('waiting_human', 'human')
   OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id AND m.role = 'operator');

-- Every catalog search a responder made, with how many products it found (misses are also in
-- search_misses, as before): the analytics' top searches.
CREATE TABLE searches (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    query      TEXT NOT NULL,
    found      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX searches_tenant ON searches (tenant_id, created_at);

-- First-token times per tenant and day, counted in buckets of the E12 series (10, 12, 15, 18, 22,
-- 27, 33, 39, 47, 56, 68, 82 times a power of ten; below 10 ms, each millisecond): a bucket is the
-- time rounded down to one of those, so a quantile read from them is at most 20 % low.
CREATE TABLE first_token_daily (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, bucket_ms)
) WITHOUT ROWID;

-- Backfill the rollup from what is stored (the token columns were kept already).
INSERT INTO analytics_daily (tenant_id, day, conversations)
SELECT tenant_id, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS d, count(*)
FROM conversations WHERE true GROUP BY tenant_id, d
ON CONFLICT (tenant_id, day) DO UPDATE SET conversations = excluded.conversations;

INSERT INTO analytics_daily (tenant_id, day, handoffs)
SELECT tenant_id, strftime('%Y-%m-%d', handed_over_at / 1000, 'unixepoch') AS d, count(*)
FROM conversations WHERE handed_over_at IS NOT NULL GROUP BY tenant_id, d
ON CONFLICT (tenant_id, day) DO UPDATE SET handoffs = excluded.handoffs;

INSERT INTO analytics_daily (tenant_id, day, messages, first_token_ms_sum, first_token_count)
SELECT tenant_id, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS d, count(*),
       coalesce(sum(first_token_ms), 0), count(first_token_ms)
FROM messages WHERE true GROUP BY tenant_id, d
ON CONFLICT (tenant_id, day) DO UPDATE SET
    messages = excluded.messages,
    first_token_ms_sum = excluded.first_token_ms_sum,
    first_token_count = excluded.first_token_count;

INSERT INTO analytics_daily (tenant_id, day, search_misses)
SELECT tenant_id, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS d, count(*)
FROM search_misses WHERE true GROUP BY tenant_id, d
ON CONFLICT (tenant_id, day) DO UPDATE SET search_misses = excluded.search_misses;

INSERT INTO first_token_daily (tenant_id, day, bucket_ms, count)
SELECT tenant_id, d, b, count(*) FROM (
    SELECT tenant_id, d, CASE WHEN ms < 10 THEN ms ELSE p * CASE
        WHEN ms / p < 12 THEN 10 WHEN ms / p < 15 THEN 12 WHEN ms / p < 18 THEN 15
        WHEN ms / p < 22 THEN 18 WHEN ms / p < 27 THEN 22 WHEN ms / p < 33 THEN 27
        WHEN ms / p < 39 THEN 33 WHEN ms / p < 47 THEN 39 WHEN ms / p < 56 THEN 47
        WHEN ms / p < 68 THEN 56 WHEN ms / p < 82 THEN 68 ELSE 82 END END AS b
    FROM (
        SELECT tenant_id, strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS d,
               max(first_token_ms, 0) AS ms,
               CASE WHEN first_token_ms < 100 THEN 1 WHEN first_token_ms < 1000 THEN 10
                    WHEN first_token_ms < 10000 THEN 100 WHEN first_token_ms < 100000 THEN 1000
                    WHEN first_token_ms < 1000000 THEN 10000 ELSE 100000 END AS p
        FROM messages WHERE first_token_ms IS NOT NULL
    )
) GROUP BY tenant_id, d, b;
