DROP TABLE firm_logos;
DROP INDEX firms_public_host;
ALTER TABLE firms DROP COLUMN public_host;
ALTER TABLE firms DROP COLUMN reply_to_case_manager;
ALTER TABLE firms DROP COLUMN accent_colour;
