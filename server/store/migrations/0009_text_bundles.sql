-- 0009: a text project's text bundle (issue 13): the tokenizer, the prompt length, the
-- continuation length and the task's instructions (wire.TextBundle as JSON), stored per
-- project so that a server without a corpus (the Worker) serves the one its remote trainer
-- uploaded. digest names what a stored clip's token ids mean (the tokenizer and the prompt
-- length); once the project has comparisons, a bundle of another digest is refused.
CREATE TABLE text_bundles (
    project_id TEXT PRIMARY KEY REFERENCES projects(id),
    bundle     TEXT NOT NULL, -- wire.TextBundle JSON
    digest     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
