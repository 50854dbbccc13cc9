-- 0007: a pair's tag says where it came from: '' for the trainer's ordinary pairs, 'red_team'
-- for a failure the adversary (core/redteam) found against the reward model, paired with an
-- ordinary clip (issue 15's adversarial training). Raters are told nothing different; the tag
-- is for exports and the dashboard.
ALTER TABLE pairs ADD COLUMN tag TEXT NOT NULL DEFAULT '';
