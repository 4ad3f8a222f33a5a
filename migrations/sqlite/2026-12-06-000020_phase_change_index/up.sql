-- Phase changes in (matter, time) order with their phase, read from the index
-- alone (shared::staff::insights: the median days spent in each phase): the
-- phase is the index's last column, so the index covers the query.
DROP INDEX milestones_kind_matter_time;
CREATE INDEX milestones_kind_matter_time ON milestones (kind, matter_id, created_at, phase_id);
-- A firm's matter ids in order, from the index alone: the join of those
-- changes to the firm's matters then merges two sorted index reads.
CREATE INDEX matters_firm_id ON matters (firm_id, id);
