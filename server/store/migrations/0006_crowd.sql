-- 0006: crowd work. A rater may carry a crowd platform's participant id (Prolific's
-- PROLIFIC_PID, MTurk's workerId); the same id joining a project again, from another device,
-- is the same rater with one more token. The pair index lets the hub count the distinct
-- raters of a pair for the project's overlap.
ALTER TABLE raters ADD COLUMN participant TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX raters_participant ON raters(project_id, participant) WHERE participant <> '';

-- Tokens beyond the one a rater joined with (raters.token_hash): one per further device.
CREATE TABLE rater_tokens (
  token_hash TEXT PRIMARY KEY,
  rater_id   TEXT NOT NULL REFERENCES raters(id),
  created_at INTEGER NOT NULL
);

CREATE INDEX comparisons_pair_rater ON comparisons(pair_id, rater_id);
