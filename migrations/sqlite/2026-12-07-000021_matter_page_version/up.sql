-- A matter's page version: a number that grows with every change to what a
-- client's matter page shows of it (shared::matter_page). The portal keeps
-- rendered pages per process keyed by it, and the page's one statement reads
-- the whole matter again only when the version a process holds is not the
-- current one. The triggers below raise it on every write, whichever code
-- makes it, so no writer can forget to.
ALTER TABLE matters ADD COLUMN page_version BIGINT NOT NULL DEFAULT 0;

-- The matter's own row: any update that does not set the version itself.
CREATE TRIGGER matters_page_version AFTER UPDATE ON matters
    FOR EACH ROW WHEN NEW.page_version = OLD.page_version
BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.id;
END;

-- Rows that name their matter.
CREATE TRIGGER milestones_page_insert AFTER INSERT ON milestones BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER milestones_page_update AFTER UPDATE ON milestones BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER milestones_page_delete AFTER DELETE ON milestones BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER document_requests_page_insert AFTER INSERT ON document_requests BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER document_requests_page_update AFTER UPDATE ON document_requests BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER document_requests_page_delete AFTER DELETE ON document_requests BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER documents_page_insert AFTER INSERT ON documents BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER documents_page_update AFTER UPDATE ON documents BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER documents_page_delete AFTER DELETE ON documents BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER messages_page_insert AFTER INSERT ON messages BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER messages_page_update AFTER UPDATE ON messages BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER messages_page_delete AFTER DELETE ON messages BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER appointments_page_insert AFTER INSERT ON appointments BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER appointments_page_update AFTER UPDATE ON appointments BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER appointments_page_delete AFTER DELETE ON appointments BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER treatment_providers_page_insert AFTER INSERT ON treatment_providers BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER treatment_providers_page_update AFTER UPDATE ON treatment_providers BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER treatment_providers_page_delete AFTER DELETE ON treatment_providers BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;
CREATE TRIGGER treatment_visits_page_insert AFTER INSERT ON treatment_visits BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = NEW.matter_id;
END;
CREATE TRIGGER treatment_visits_page_update AFTER UPDATE ON treatment_visits BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id IN (OLD.matter_id, NEW.matter_id);
END;
CREATE TRIGGER treatment_visits_page_delete AFTER DELETE ON treatment_visits BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE id = OLD.matter_id;
END;

-- A message's attachments name their matter through the message.
CREATE TRIGGER message_attachments_page_insert AFTER INSERT ON message_attachments BEGIN
    UPDATE matters SET page_version = page_version + 1
        WHERE id = (SELECT matter_id FROM messages WHERE id = NEW.message_id);
END;
CREATE TRIGGER message_attachments_page_delete AFTER DELETE ON message_attachments BEGIN
    UPDATE matters SET page_version = page_version + 1
        WHERE id = (SELECT matter_id FROM messages WHERE id = OLD.message_id);
END;

-- A person's name, phone or address, shown as a case manager's contact or a
-- message's author, on every matter that shows it.
CREATE TRIGGER users_page_version AFTER UPDATE OF full_name, phone, email ON users
    FOR EACH ROW WHEN OLD.full_name IS NOT NEW.full_name OR OLD.phone IS NOT NEW.phone OR OLD.email IS NOT NEW.email
BEGIN
    UPDATE matters SET page_version = page_version + 1
        WHERE case_manager_id = NEW.id OR id IN (SELECT matter_id FROM messages WHERE author_id = NEW.id);
END;

-- The firm's time zone (dates, "overdue") and whether closed matters take uploads.
CREATE TRIGGER firms_page_version AFTER UPDATE OF time_zone, closed_matter_uploads ON firms
    FOR EACH ROW WHEN OLD.time_zone IS NOT NEW.time_zone OR OLD.closed_matter_uploads IS NOT NEW.closed_matter_uploads
BEGIN
    UPDATE matters SET page_version = page_version + 1 WHERE firm_id = NEW.id;
END;
