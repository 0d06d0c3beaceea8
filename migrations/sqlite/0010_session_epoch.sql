-- Each user's session epoch: every session carries the epoch it was signed in under, and a
-- session whose epoch is not the user's current one is over. Changing one's password, an
-- admin resetting it, "sign out everywhere" and disabling the account move it on, ending every
-- other session of that user at once.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
