-- 0010: recount pairs.raters. Up to this version the sync counted a rater's first label on a
-- pair by the request's received_at, so a rater's later request received in the same
-- millisecond (two devices, or a retry beside a new label) counted the rater again, and the
-- pair left the queue before the project's overlap. The labels themselves were right; this
-- counts the distinct raters of each pair from them, as 0006 did.
UPDATE pairs SET raters = c.n
  FROM (SELECT pair_id, COUNT(DISTINCT rater_id) AS n FROM comparisons GROUP BY pair_id) AS c
  WHERE c.pair_id = pairs.id AND pairs.raters <> c.n;
