-- Whether clients may still upload documents to a matter once it is closed.
-- Off by default: a closed matter takes no more uploads unless the firm says so.
ALTER TABLE firms ADD COLUMN closed_matter_uploads BOOLEAN NOT NULL DEFAULT 0;
