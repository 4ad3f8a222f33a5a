DROP TRIGGER firms_page_version ON firms;
DROP FUNCTION matter_page_version_firm();
DROP TRIGGER users_page_version ON users;
DROP FUNCTION matter_page_version_person();
DROP TRIGGER message_attachments_page_insert ON message_attachments;
DROP TRIGGER message_attachments_page_delete ON message_attachments;
DROP FUNCTION matter_page_version_attachments();
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['milestones', 'document_requests', 'documents', 'messages', 'appointments',
                             'treatment_providers', 'treatment_visits']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_page_insert', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_page_update', t);
        EXECUTE format('DROP TRIGGER %I ON %I', t || '_page_delete', t);
    END LOOP;
END $$;
DROP FUNCTION matter_page_version_rows();
DROP TRIGGER matters_page_version ON matters;
DROP FUNCTION matter_page_version_own();
ALTER TABLE matters DROP COLUMN page_version;
