ALTER TABLE firms DROP COLUMN one_tap_sign_in;
DROP TABLE one_tap_links;
