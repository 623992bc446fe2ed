-- The name the visitor saw on an operator's message, kept as it was when it was sent; a tool on
-- the tenant API may post as a person who has no admin account.
ALTER TABLE messages ADD COLUMN operator_name TEXT;
