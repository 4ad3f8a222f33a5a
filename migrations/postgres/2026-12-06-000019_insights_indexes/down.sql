DROP INDEX milestones_kind_matter_time;
DROP INDEX document_requests_closed;
DROP INDEX messages_firm_time;
DROP INDEX notifications_firm_status_created;
DROP INDEX notifications_firm_kind_sent;
