DROP INDEX audit_events_firm_target;
DROP INDEX documents_unreviewed;
DROP INDEX matters_firm_manager;
DROP INDEX matters_firm_phase;
ALTER TABLE users DROP COLUMN totp_last_step;
