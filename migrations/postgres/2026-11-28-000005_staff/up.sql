-- Staff sign-in: the last TOTP time step accepted, so a code works only once
-- (RFC 6238 section 5.2), and indexes for the staff matter list's filters.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
CREATE INDEX matters_firm_phase ON matters (firm_id, phase_id);
CREATE INDEX matters_firm_manager ON matters (firm_id, case_manager_id);
CREATE INDEX documents_unreviewed ON documents (matter_id) WHERE reviewed_at IS NULL;
CREATE INDEX audit_events_firm_target ON audit_events (firm_id, target_type, target_id);
