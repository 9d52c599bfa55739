-- User names are unique per account, and group display names looked up,
-- without regard to case in Unicode: by a key the store computes in Go
-- (seatkeeper.NameKey), the same on both stores. SQL's lower() folds only
-- ASCII on SQLite, and on PostgreSQL follows the database's locale: the
-- two stores disagreed on Ärger and ärger. lower() is the key of ASCII
-- names; names with other letters get theirs from Go (fillNameKeys), then
-- 0016 indexes the keys.
ALTER TABLE users ADD COLUMN user_name_key TEXT NOT NULL DEFAULT '';
UPDATE users SET user_name_key = lower(user_name);
ALTER TABLE scim_groups ADD COLUMN display_name_key TEXT NOT NULL DEFAULT '';
UPDATE scim_groups SET display_name_key = lower(display_name);
