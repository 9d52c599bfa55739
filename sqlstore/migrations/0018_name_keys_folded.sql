-- Name keys (seatkeeper.NameKey) are now Unicode's canonical caseless
-- match: full case folding and canonical composition, where they were
-- lower-cased before. The Go step (fillNameKeys, as in 0015) gives every
-- user name and group display name its new key; a key another name of the
-- account already has is left as it was.
SELECT 1;
