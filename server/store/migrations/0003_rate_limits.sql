-- 0003: per-key token buckets for rate limits that must outlive the process: the Cloudflare
-- Worker keeps nothing in memory between requests, so its limits live here (server/d1). The
-- native hub keeps its buckets in memory and leaves this table empty.
CREATE TABLE rate_limits (
  key        TEXT PRIMARY KEY,  -- 't:' + token hash, or 'j:' + client address (join)
  tokens     REAL NOT NULL,     -- tokens left at updated_at
  granted    INTEGER NOT NULL,  -- whether the last request was let through
  updated_at INTEGER NOT NULL   -- Unix milliseconds
);
CREATE INDEX rate_limits_updated ON rate_limits(updated_at);
