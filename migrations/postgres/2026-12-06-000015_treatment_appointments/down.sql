ALTER TABLE firms DROP COLUMN treatment_gap_days;
ALTER TABLE phases DROP COLUMN treatment;
DROP TABLE appointments;
DROP TABLE treatment_visits;
DROP TABLE treatment_providers;
