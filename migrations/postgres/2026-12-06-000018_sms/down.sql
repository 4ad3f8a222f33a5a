ALTER TABLE firms DROP COLUMN sms_until_hour;
ALTER TABLE firms DROP COLUMN sms_from_hour;
DROP TABLE sms_messages;
DROP TABLE sms_consents;
