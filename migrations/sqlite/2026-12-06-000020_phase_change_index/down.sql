DROP INDEX matters_firm_id;
DROP INDEX milestones_kind_matter_time;
CREATE INDEX milestones_kind_matter_time ON milestones (kind, matter_id, created_at);
