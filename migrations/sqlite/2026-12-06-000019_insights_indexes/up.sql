-- Indexes for the insights figures (shared::staff::insights), each read by
-- firm and time instead of a scan of the whole table:
-- weekly updates sent in the last 7 days, and those that failed in the range;
CREATE INDEX notifications_firm_kind_sent ON notifications (firm_id, kind, sent_at);
CREATE INDEX notifications_firm_status_created ON notifications (firm_id, status, created_at);
-- client messages written in the range (the unanswered ones have messages_unanswered);
CREATE INDEX messages_firm_time ON messages (firm_id, created_at);
-- document requests closed in the range (the open ones have document_requests_due);
CREATE INDEX document_requests_closed ON document_requests (closed_at);
-- phase changes, without the other milestones of each matter.
CREATE INDEX milestones_kind_matter_time ON milestones (kind, matter_id, created_at);
