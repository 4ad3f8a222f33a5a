ALTER TABLE firms DROP COLUMN message_text_in_email;
DROP TABLE message_attachments;
DROP TABLE messages;
