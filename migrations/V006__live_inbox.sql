-- The live inbox: when a conversation started waiting for a person and when one took it over
-- (the inbox's waiting time, the widget's "usually answers in N min"), the last visitor message
-- the team has read (unread counts), the email a visitor left when nobody was online, the
-- team's internal notes and canned replies, and each tenant's handoff timeout.

ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
ALTER TABLE conversations ADD COLUMN taken_over_at INTEGER;
ALTER TABLE conversations ADD COLUMN team_read_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN contact_email TEXT;
UPDATE conversations SET waiting_since = updated_at WHERE status = 'waiting_human';
UPDATE conversations SET team_read_id = coalesce((SELECT max(id) FROM messages m WHERE m.conversation_id = conversations.id), 0);

-- The inbox's sections: waiting and with a person, across tenants, oldest waiting first.
CREATE INDEX conversations_waiting ON conversations (status, waiting_since) WHERE status IN ('waiting_human', 'human');
-- The answer-time estimate reads a tenant's latest take-overs.
CREATE INDEX conversations_taken_over ON conversations (tenant_id, taken_over_at) WHERE taken_over_at IS NOT NULL;

-- Seconds a visitor waits for a person before being told nobody could join (NULL: 300).
ALTER TABLE tenants ADD COLUMN handoff_timeout_secs INTEGER;

-- What the team writes for itself about a conversation; the visitor never sees it.
CREATE TABLE conversation_notes (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id       INTEGER REFERENCES admin_users (id) ON DELETE SET NULL,
    author_name     TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, id);

-- A tenant's ready answers, picked in the composer by typing `/` and the shortcut.
CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    shortcut   TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, shortcut)
);
