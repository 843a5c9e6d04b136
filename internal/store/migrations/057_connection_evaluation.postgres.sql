-- PostgreSQL: the flag is a real boolean, which database/sql writes and
-- reads as Go's bool on both engines (SQLite keeps it as 0/1).
ALTER TABLE connections ADD COLUMN evaluation BOOLEAN NOT NULL DEFAULT FALSE;
