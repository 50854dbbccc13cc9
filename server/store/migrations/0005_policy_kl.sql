-- 0005: the KL from the project's initial policy, per step, measured by the trainer on the
-- round's rollout observations when it publishes a policy (classroom reward-hacking view).
-- NULL where it was not measured (policies published before this migration).
ALTER TABLE policies ADD COLUMN kl REAL;
