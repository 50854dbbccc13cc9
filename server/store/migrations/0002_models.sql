-- 0002: reward-model versions, model updates from private-mode browsers, policy checkpoints,
-- the trainer's resumable state, and when a rater was last seen.

ALTER TABLE raters ADD COLUMN last_seen_at INTEGER;

-- weights is the reward ensemble in core/reward's JSON format; metrics a JSON object.
CREATE TABLE reward_models (
  project_id TEXT NOT NULL REFERENCES projects(id),
  version    INTEGER NOT NULL,
  weights    TEXT NOT NULL,
  num_params INTEGER NOT NULL,
  metrics    TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, version)
);

-- A model update is a private-mode rater's weight delta against base_version: little-endian
-- float32 values in the ensemble's flat parameter order. status is 'pending' until the
-- trainer merges it ('merged', into merged_into) or rejects it ('rejected', with reason).
CREATE TABLE model_updates (
  id           TEXT PRIMARY KEY,
  project_id   TEXT NOT NULL REFERENCES projects(id),
  rater_id     TEXT NOT NULL REFERENCES raters(id),
  base_version INTEGER NOT NULL,
  labels       INTEGER NOT NULL,
  delta        BLOB NOT NULL,
  metrics      TEXT NOT NULL DEFAULT '{}',
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'merged', 'rejected')),
  merged_into  INTEGER,
  reason       TEXT,
  received_at  INTEGER NOT NULL
);
CREATE INDEX model_updates_pending ON model_updates(project_id, status);

-- One row per published policy. weights is the policy in core/ppo's binary format;
-- true_return is NULL where the env has no true reward.
CREATE TABLE policies (
  project_id     TEXT NOT NULL REFERENCES projects(id),
  version        INTEGER NOT NULL,
  weights        BLOB NOT NULL,
  learned_return REAL,
  true_return    REAL,
  env_steps      INTEGER NOT NULL DEFAULT 0,
  labels         INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (project_id, version)
);

-- The trainer's checkpoint: whatever it needs to resume (optimiser state, RNG, round).
CREATE TABLE trainer_state (
  project_id TEXT PRIMARY KEY REFERENCES projects(id),
  round      INTEGER NOT NULL,
  state      BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);
