-- A matter's page version: a number that grows with every change to what a
-- client's matter page shows of it (shared::matter_page). The portal keeps
-- rendered pages per process keyed by it, and the page's one statement reads
-- the whole matter again only when the version a process holds is not the
-- current one. The triggers below raise it on every write, whichever code
-- makes it, so no writer can forget to.
ALTER TABLE matters ADD COLUMN page_version BIGINT NOT NULL DEFAULT 0;

-- The matter's own row: any update that does not set the version itself.
CREATE FUNCTION matter_page_version_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.page_version := OLD.page_version + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER matters_page_version BEFORE UPDATE ON matters
    FOR EACH ROW WHEN (NEW.page_version = OLD.page_version) EXECUTE FUNCTION matter_page_version_own();

-- Rows that name their matter: once per statement, for every matter it touched.
CREATE FUNCTION matter_page_version_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE matters SET page_version = page_version + 1
            WHERE id IN (SELECT matter_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE matters SET page_version = page_version + 1
            WHERE id IN (SELECT matter_id FROM new_rows UNION SELECT matter_id FROM old_rows);
    ELSE
        UPDATE matters SET page_version = page_version + 1
            WHERE id IN (SELECT matter_id FROM old_rows);
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['milestones', 'document_requests', 'documents', 'messages', 'appointments',
                             'treatment_providers', 'treatment_visits']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION matter_page_version_rows()', t || '_page_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION matter_page_version_rows()', t || '_page_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION matter_page_version_rows()', t || '_page_delete', t);
    END LOOP;
END $$;

-- A message's attachments name their matter through the message.
CREATE FUNCTION matter_page_version_attachments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE matters SET page_version = page_version + 1 WHERE id IN
            (SELECT g.matter_id FROM messages g WHERE g.id IN (SELECT message_id FROM new_rows));
    ELSE
        UPDATE matters SET page_version = page_version + 1 WHERE id IN
            (SELECT g.matter_id FROM messages g WHERE g.id IN (SELECT message_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER message_attachments_page_insert AFTER INSERT ON message_attachments REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION matter_page_version_attachments();
CREATE TRIGGER message_attachments_page_delete AFTER DELETE ON message_attachments REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION matter_page_version_attachments();

-- A person's name, phone or address, shown as a case manager's contact or a
-- message's author, on every matter that shows it.
CREATE FUNCTION matter_page_version_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE matters SET page_version = page_version + 1
        WHERE case_manager_id = NEW.id OR id IN (SELECT matter_id FROM messages WHERE author_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER users_page_version AFTER UPDATE OF full_name, phone, email ON users
    FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name OR OLD.phone IS DISTINCT FROM NEW.phone
                       OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION matter_page_version_person();

-- The firm's time zone (dates, "overdue") and whether closed matters take uploads.
CREATE FUNCTION matter_page_version_firm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE firm_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER firms_page_version AFTER UPDATE OF time_zone, closed_matter_uploads ON firms
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone
                       OR OLD.closed_matter_uploads IS DISTINCT FROM NEW.closed_matter_uploads)
    EXECUTE FUNCTION matter_page_version_firm();
