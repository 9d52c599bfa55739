-- The keys of 0015, indexed in place of lower(): unique for user names.
DROP INDEX users_user_name;
CREATE UNIQUE INDEX users_user_name ON users (account, user_name_key);
DROP INDEX scim_groups_display_name;
CREATE INDEX scim_groups_display_name ON scim_groups (account, display_name_key);
