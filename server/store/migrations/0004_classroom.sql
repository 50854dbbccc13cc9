-- 0004: classroom rater quality. Gold pairs are pairs whose answer the teacher knows; a rater's
-- weight (in [0, 1], 1 by default) down-weights their labels in training. Both are reversible:
-- nothing is deleted, and the trainer reads them at every round.
CREATE TABLE gold_pairs (
  pair_id    TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  choice     TEXT NOT NULL CHECK (choice IN ('left', 'right', 'equal')),
  created_at INTEGER NOT NULL
);
CREATE INDEX gold_pairs_project ON gold_pairs(project_id);

ALTER TABLE raters ADD COLUMN weight REAL NOT NULL DEFAULT 1;
