ALTER TABLE firms DROP COLUMN closed_matter_uploads;
