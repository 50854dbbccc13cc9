-- 0006: crowd work. A rater may carry a crowd platform's participant id (Prolific's
-- PROLIFIC_PID, MTurk's workerId); the same id joining a project again, from another device,
-- is the same rater with one more token. pairs.raters counts the distinct raters who labelled
-- a pair, for the project's overlap; the sync that gives a rater's first label on a pair adds
-- one (store.SQLCountPairRaters), in the insert's transaction. A counter, not an index on
-- comparisons(pair_id, rater_id): an index is one more B-tree written per comparison, which
-- slowed the hot insert by half.
ALTER TABLE raters ADD COLUMN participant TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX raters_participant ON raters(project_id, participant) WHERE participant <> '';

-- Tokens beyond the one a rater joined with (raters.token_hash): one per further device.
CREATE TABLE rater_tokens (
  token_hash TEXT PRIMARY KEY,
  rater_id   TEXT NOT NULL REFERENCES raters(id),
  created_at INTEGER NOT NULL
);

ALTER TABLE pairs ADD COLUMN raters INTEGER NOT NULL DEFAULT 0;
UPDATE pairs SET raters = c.n
  FROM (SELECT pair_id, COUNT(DISTINCT rater_id) AS n FROM comparisons GROUP BY pair_id) AS c
  WHERE c.pair_id = pairs.id;

-- raters.labels counts a rater's comparisons (all devices), for the cap and the sync's answer;
-- the sync's insert adds to it in the same transaction (store.SQLAddRaterLabels), so it needs
-- no count over the comparisons.
ALTER TABLE raters ADD COLUMN labels INTEGER NOT NULL DEFAULT 0;
UPDATE raters SET labels = c.n
  FROM (SELECT rater_id, COUNT(*) AS n FROM comparisons GROUP BY rater_id) AS c
  WHERE c.rater_id = raters.id;
