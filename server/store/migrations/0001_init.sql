-- 0001: projects, raters, teacher tokens, clips, pairs and comparisons.
-- Portable SQLite: the Cloudflare D1 Worker applies these same files, so connection settings
-- (journal mode, synchronous) are not set here but by the Go store when it opens the file.
-- Times are Unix milliseconds (INTEGER). JSON documents are TEXT.

CREATE TABLE server_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE projects (
  id         TEXT PRIMARY KEY,
  env        TEXT NOT NULL,
  settings   TEXT NOT NULL DEFAULT '{}',
  join_code  TEXT NOT NULL UNIQUE,
  paused     INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

-- A teacher token may act on one project, or on every project when project_id is NULL.
-- Only the SHA-256 of a token is stored.
CREATE TABLE teacher_tokens (
  token_hash TEXT PRIMARY KEY,
  project_id TEXT REFERENCES projects(id),
  created_at INTEGER NOT NULL
);

CREATE TABLE raters (
  id         TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  name       TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  excluded   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX raters_project ON raters(project_id);

-- A clip is what replays it: data is the prefs.Clip JSON (env, policy_version, start_state,
-- actions). No video is stored.
CREATE TABLE clips (
  id             TEXT PRIMARY KEY,
  project_id     TEXT NOT NULL REFERENCES projects(id),
  env            TEXT NOT NULL,
  policy_version INTEGER NOT NULL,
  data           TEXT NOT NULL,
  created_at     INTEGER NOT NULL
);
CREATE INDEX clips_project ON clips(project_id);

CREATE TABLE pairs (
  id         TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(id),
  left_clip  TEXT NOT NULL REFERENCES clips(id),
  right_clip TEXT NOT NULL REFERENCES clips(id),
  priority   REAL NOT NULL DEFAULT 0,
  active     INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE INDEX pairs_project_active ON pairs(project_id, active, priority);

-- Comparisons form a grow-only set keyed by the client's UUID. rowid orders arrival, so the
-- trainer can read what is new. project_id, rater_id and pair_id are checked by the hub before
-- insert, not by foreign keys, to keep the hot insert path to one B-tree per index.
CREATE TABLE comparisons (
  id          TEXT PRIMARY KEY,
  project_id  TEXT NOT NULL,
  rater_id    TEXT NOT NULL,
  pair_id     TEXT NOT NULL,
  choice      TEXT NOT NULL CHECK (choice IN ('left', 'right', 'equal', 'cant_tell')),
  created_at  INTEGER NOT NULL,
  response_ms INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX comparisons_project ON comparisons(project_id);
CREATE INDEX comparisons_rater_pair ON comparisons(rater_id, pair_id);
