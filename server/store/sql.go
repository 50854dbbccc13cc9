package store

// The SQL text both stores run: this package through database/sql, and the Worker's D1 store
// (server/d1) through its batch binding. One copy, so that the two cannot drift. The
// statements use numbered placeholders (?1, ?2, ...), which both take, and name every computed
// column (AS ...), which D1 needs to return it.

// Projects.
const (
	SQLCreateProject = `INSERT INTO projects (id, env, settings, join_code, paused, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`
	sqlProjectCols   = `SELECT id, env, settings, join_code, paused, created_at FROM projects `
	SQLProject       = sqlProjectCols + `WHERE id = ?1`
	SQLProjectByCode = sqlProjectCols + `WHERE join_code = ?1`
	SQLProjects      = sqlProjectCols + `ORDER BY created_at, id`
	SQLSetPaused     = `UPDATE projects SET paused = ?1 WHERE id = ?2`
	SQLSetSettings   = `UPDATE projects SET settings = ?1 WHERE id = ?2`
	SQLCounts        = `SELECT
		(SELECT COUNT(*) FROM raters WHERE project_id = ?1) AS raters,
		(SELECT COUNT(*) FROM comparisons WHERE project_id = ?1) AS comparisons,
		(SELECT COUNT(*) FROM comparisons c JOIN raters r ON r.id = c.rater_id WHERE c.project_id = ?1 AND r.excluded = 1) AS excluded,
		(SELECT COUNT(*) FROM clips WHERE project_id = ?1) AS clips,
		(SELECT COUNT(*) FROM pairs WHERE project_id = ?1) AS pairs,
		(SELECT COUNT(*) FROM pairs WHERE project_id = ?1 AND active = 1) AS active_pairs,
		(SELECT COUNT(*) FROM model_updates WHERE project_id = ?1) AS updates,
		(SELECT COUNT(*) FROM model_updates WHERE project_id = ?1 AND status = 'pending') AS pending`
	// SQLPairCoverage counts the project's pairs that at least one rater labelled, and those
	// that ?2 (the overlap) distinct raters labelled.
	SQLPairCoverage = `SELECT COUNT(*) AS labelled, COALESCE(SUM(raters >= ?2), 0) AS full
		FROM pairs WHERE project_id = ?1 AND raters > 0`
)

// Raters.
const (
	SQLCreateRater = `INSERT INTO raters (id, project_id, name, participant, token_hash, excluded, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`
	sqlRaterCols   = `SELECT r.id, r.project_id, r.name, r.participant, r.excluded, r.created_at FROM raters r `
	// SQLRaterByToken finds a rater by the token it joined with or by a later device's token.
	SQLRaterByToken = sqlRaterCols + `WHERE r.token_hash = ?1
		UNION ALL ` + sqlRaterCols + `JOIN rater_tokens t ON t.rater_id = r.id WHERE t.token_hash = ?1`
	SQLRaterByParticipant = sqlRaterCols + `WHERE r.project_id = ?1 AND r.participant = ?2 AND r.participant <> ''`
	SQLAddRaterToken      = `INSERT INTO rater_tokens (token_hash, rater_id, created_at) VALUES (?1, ?2, ?3)`
	SQLRaterLabels        = `SELECT labels FROM raters WHERE id = ?1`
	// SQLAddRaterLabels adds the rows the statement before it inserted (changes()) to rater
	// ?1's count and returns the new count. It must run right after SQLInsertComparisons (or
	// the capped form) on the same connection, in the same transaction or D1 batch.
	SQLAddRaterLabels = `UPDATE raters SET labels = labels + changes() WHERE id = ?1 RETURNING labels`
	// SQLRaters lists a project's raters with their label counts and times: active time sums
	// response_ms with each label capped at MaxActiveMS (an idle tab does not count), and the
	// median is the middle label time (the mean of the two middle ones for an even count).
	SQLRaters = `WITH t AS (
			SELECT rater_id, response_ms,
				ROW_NUMBER() OVER (PARTITION BY rater_id ORDER BY response_ms) AS rn,
				COUNT(*) OVER (PARTITION BY rater_id) AS n
			FROM comparisons WHERE project_id = ?1),
		a AS (
			SELECT rater_id, MAX(n) AS n, SUM(MIN(response_ms, ?2)) AS active_ms,
				AVG(CASE WHEN rn IN ((n + 1) / 2, (n + 2) / 2) THEN response_ms END) AS median_ms
			FROM t GROUP BY rater_id)
		SELECT r.id, r.project_id, r.name, r.participant, r.excluded, r.created_at, r.last_seen_at,
			COALESCE(a.n, 0) AS labels, COALESCE(a.active_ms, 0) AS active_ms, a.median_ms
		FROM raters r LEFT JOIN a ON a.rater_id = r.id
		WHERE r.project_id = ?1 ORDER BY r.created_at, r.rowid`
	SQLTeacherToken = `SELECT project_id FROM teacher_tokens WHERE token_hash = ?1`
	SQLSetExcluded  = `UPDATE raters SET excluded = ?1 WHERE id = ?2 AND project_id = ?3`
	SQLTouchRater   = `UPDATE raters SET last_seen_at = ?1 WHERE id = ?2`
)

// MaxActiveMS caps one label's time in a rater's active time (5 minutes): a label that took
// longer was most likely an idle tab, not work.
const MaxActiveMS = 5 * 60 * 1000

// Clips and pairs.
const (
	SQLClip        = `SELECT data FROM clips WHERE id = ?1 AND project_id = ?2`
	SQLClipsByID   = `SELECT id, data FROM clips WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))`
	SQLPairExists  = `SELECT 1 AS one FROM pairs WHERE id = ?1 AND project_id = ?2`
	SQLPairsExist  = `SELECT id FROM pairs WHERE project_id = ?1 AND id IN (SELECT value FROM json_each(?2))`
	SQLRetirePairs = `UPDATE pairs SET active = 0 WHERE project_id = ?1 AND active = 1`
	// SQLPairsFor serves a rater (?2) up to ?4 active pairs of project ?1 that it has not
	// labelled and does not hold (?3, a JSON array of ids). A pair leaves the queue once ?5
	// distinct raters labelled it (the overlap; 0: never), except gold pairs, which every
	// rater gets. Pairs others have started come first, so raters who join together label the
	// same pairs; then the trainer's priority.
	SQLPairsFor = `SELECT q.id, l.data AS left_data, rc.data AS right_data, q.tag FROM (
			SELECT p.id, p.left_clip, p.right_clip, p.priority, p.created_at, p.raters AS n, p.tag,
				EXISTS (SELECT 1 FROM gold_pairs g WHERE g.pair_id = p.id) AS gold
			FROM pairs p
			WHERE p.project_id = ?1 AND p.active = 1
			  AND NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.rater_id = ?2 AND c.pair_id = p.id)
			  AND p.id NOT IN (SELECT value FROM json_each(?3))) q
		JOIN clips l ON l.id = q.left_clip JOIN clips rc ON rc.id = q.right_clip
		WHERE q.gold OR ?5 <= 0 OR q.n < ?5
		ORDER BY q.n > 0 DESC, q.priority DESC, q.created_at DESC, q.id
		LIMIT ?4`
)

// Comparisons.
const (
	// SQLInsertComparisons stores a rater's (?2) comparisons (?4, a JSON array of
	// {id, pair_id, choice, created_at, response_ms}) in project ?1, received at ?3, each id at
	// most once, and returns the ids it inserted.
	SQLInsertComparisons = `INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at)
	SELECT json_extract(value, '$.id'), ?1, ?2, json_extract(value, '$.pair_id'), json_extract(value, '$.choice'),
	       json_extract(value, '$.created_at'), json_extract(value, '$.response_ms'), ?3
	FROM json_each(?4) WHERE true
	ON CONFLICT(id) DO NOTHING
	RETURNING id`
	// SQLInsertComparisonsCapped is SQLInsertComparisons for a project with a cap: new ids are
	// taken in array order until the rater holds ?5. (Ids already stored are left out before
	// the limit, so a retry never meets the cap; SQLCountPairRaters repeats this selection.) It
	// reads the table it writes, which makes SQLite run the select whole before inserting, so
	// projects without a cap use the plain insert.
	SQLInsertComparisonsCapped = `INSERT INTO comparisons (id, project_id, rater_id, pair_id, choice, created_at, response_ms, received_at)
	SELECT json_extract(value, '$.id'), ?1, ?2, json_extract(value, '$.pair_id'), json_extract(value, '$.choice'),
	       json_extract(value, '$.created_at'), json_extract(value, '$.response_ms'), ?3
	FROM json_each(?4)
	WHERE NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.id = json_extract(value, '$.id'))
	ORDER BY key
	LIMIT max(0, ?5 - (SELECT labels FROM raters WHERE id = ?2))
	ON CONFLICT(id) DO NOTHING
	RETURNING id`
	// SQLCountPairRaters adds one to the rater count (pairs.raters) of each pair that rater ?1
	// is about to label for the first time: the pairs of the comparisons of ?2 (the request's
	// JSON array) that the insert will store, on which the rater holds no comparison yet. It
	// runs right before SQLInsertComparisons (?3 = 0) or SQLInsertComparisonsCapped (?3, the
	// cap), in its transaction, and selects the rows that insert will store as it does: the
	// ids not stored yet, in array order, up to the cap (LIMIT -1: none). Before the insert
	// is the one time the request's new rows can be told from the rater's older ones; their
	// received_at cannot tell them (an earlier request of the same millisecond counted the
	// rater twice).
	SQLCountPairRaters = `UPDATE pairs SET raters = raters + 1
		WHERE id IN (SELECT json_extract(value, '$.pair_id') FROM json_each(?2)
			WHERE NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.id = json_extract(value, '$.id'))
			ORDER BY key
			LIMIT CASE WHEN ?3 > 0 THEN max(0, ?3 - (SELECT labels FROM raters WHERE id = ?1)) ELSE -1 END)
		  AND NOT EXISTS (SELECT 1 FROM comparisons c WHERE c.rater_id = ?1 AND c.pair_id = pairs.id)`
	// SQLStoredComparisons tells, of the ids in ?1 (the same JSON array), which are stored and
	// whether under rater ?2.
	SQLStoredComparisons = `SELECT id, rater_id = ?2 AS mine FROM comparisons WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`
	SQLLabels            = `SELECT c.rowid AS seq, c.id, c.rater_id, c.pair_id, c.choice, p.left_clip, p.right_clip
		FROM comparisons c JOIN pairs p ON p.id = c.pair_id JOIN raters r ON r.id = c.rater_id
		WHERE c.project_id = ?1 AND c.rowid > ?2 AND (r.excluded = 0 OR ?3)
		ORDER BY c.rowid`
	// SQLExport reads up to ?3 comparisons of project ?1 after row ?2, with their raters and
	// clips.
	SQLExport = `SELECT c.rowid AS seq, c.id, c.project_id, c.rater_id, r.name, r.participant, r.excluded, c.pair_id, c.choice,
		c.created_at, c.response_ms, c.received_at, l.data AS left_data, rc.data AS right_data
		FROM comparisons c JOIN raters r ON r.id = c.rater_id JOIN pairs p ON p.id = c.pair_id
		JOIN clips l ON l.id = p.left_clip JOIN clips rc ON rc.id = p.right_clip
		WHERE c.project_id = ?1 AND c.rowid > ?2 ORDER BY c.rowid LIMIT ?3`
)

// Reward models, model updates, policies and the trainer's checkpoint.
const (
	SQLLatestModelVersion  = `SELECT COALESCE(MAX(version), 0) AS v FROM reward_models WHERE project_id = ?1`
	SQLLatestPolicyVersion = `SELECT COALESCE(MAX(version), 0) AS v FROM policies WHERE project_id = ?1`
	sqlModelCols           = `SELECT version, weights, num_params, metrics, created_at FROM reward_models `
	SQLLatestModel         = sqlModelCols + `WHERE project_id = ?1 ORDER BY version DESC LIMIT 1`
	SQLModel               = sqlModelCols + `WHERE project_id = ?1 AND version = ?2`
	SQLModelNumParams      = `SELECT num_params FROM reward_models WHERE project_id = ?1 AND version = ?2`
	SQLAddModelUpdate      = `INSERT INTO model_updates (id, project_id, rater_id, base_version, labels, delta, metrics, status, received_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8) ON CONFLICT(id) DO NOTHING RETURNING id`
	SQLModelUpdateOwner = `SELECT rater_id FROM model_updates WHERE id = ?1`
	// SQLModelUpdates lists project ?1's updates with status ?2 ("" for all), oldest first.
	SQLModelUpdates = `SELECT id, rater_id, base_version, labels, delta, metrics, status,
		COALESCE(merged_into, 0) AS merged_into, COALESCE(reason, '') AS reason, received_at
		FROM model_updates WHERE project_id = ?1 AND (?2 = '' OR status = ?2) ORDER BY rowid`
	SQLPolicyHistory = `SELECT version, learned_return, true_return, kl, env_steps, labels, created_at FROM
		(SELECT * FROM policies WHERE project_id = ?1 ORDER BY version DESC LIMIT ?2) ORDER BY version`
	SQLLatestPolicy = `SELECT version, weights, learned_return, true_return, kl, env_steps, labels, created_at
		FROM policies WHERE project_id = ?1 ORDER BY version DESC LIMIT 1`
	SQLCheckpoint     = `SELECT round, state FROM trainer_state WHERE project_id = ?1`
	SQLPublishModel   = `INSERT INTO reward_models (project_id, version, weights, num_params, metrics, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`
	SQLPublishPolicy  = `INSERT INTO policies (project_id, version, weights, learned_return, true_return, kl, env_steps, labels, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`
	SQLMergedUpdates  = `UPDATE model_updates SET status = 'merged', merged_into = ?1 WHERE project_id = ?2 AND id IN (SELECT value FROM json_each(?3))`
	SQLRejectUpdate   = `UPDATE model_updates SET status = 'rejected', reason = ?1 WHERE id = ?2 AND project_id = ?3`
	SQLSaveCheckpoint = `INSERT INTO trainer_state (project_id, round, state, updated_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT(project_id) DO UPDATE SET round = excluded.round, state = excluded.state, updated_at = excluded.updated_at`
)

// Classroom quality: gold pairs and rater weights.
const (
	SQLUnsetGold = `DELETE FROM gold_pairs WHERE pair_id = ?1 AND project_id = ?2`
	SQLSetGold   = `INSERT INTO gold_pairs (pair_id, project_id, choice, created_at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (pair_id) DO UPDATE SET choice = excluded.choice`
	SQLGold           = `SELECT pair_id, choice FROM gold_pairs WHERE project_id = ?1`
	SQLSetRaterWeight = `UPDATE raters SET weight = ?1 WHERE id = ?2 AND project_id = ?3`
	SQLRaterWeights   = `SELECT id, weight FROM raters WHERE project_id = ?1 AND weight != 1`
)
