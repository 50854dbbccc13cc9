-- 0008: clips raters submit from the app's red-team mode (issue 15, red-teaming by hand): a
-- clip they think the reward model overrates, as (start state, actions) of the project's env,
-- with what the hub measured when it arrived: the true return (the task's reward or a
-- behaviour's checker), the task's failure threshold for its length, whether it failed the
-- task, and r̂ under the hub's latest reward model (NULL when there was none). The teacher's
-- leaderboard reads them.
CREATE TABLE red_team_submissions (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects(id),
    rater_id      TEXT NOT NULL REFERENCES raters(id),
    start_state   TEXT NOT NULL, -- JSON array
    actions       TEXT NOT NULL, -- JSON array of action vectors
    true_return   REAL NOT NULL,
    threshold     REAL NOT NULL,
    failure       INTEGER NOT NULL,
    rhat          REAL,
    model_version INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX red_team_submissions_project ON red_team_submissions (project_id, created_at);
