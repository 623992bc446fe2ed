-- What a tenant's LLM costs (SPEC §8): prices per 1 000 tokens in millionths of the billing
-- currency, and what happens once the monthly budget is spent.
ALTER TABLE tenants ADD COLUMN price_prompt_micros     INTEGER;
ALTER TABLE tenants ADD COLUMN price_completion_micros INTEGER;
ALTER TABLE tenants ADD COLUMN over_budget TEXT NOT NULL DEFAULT 'builtin'
    CHECK (over_budget IN ('builtin', 'message'));
