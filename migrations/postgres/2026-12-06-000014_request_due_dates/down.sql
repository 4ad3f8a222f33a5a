DROP TABLE request_templates;
DROP INDEX document_requests_due;
ALTER TABLE document_requests DROP COLUMN fulfil_on;
ALTER TABLE document_requests DROP COLUMN due_date;
