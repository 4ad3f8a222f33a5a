-- The treatment log: a matter's medical providers and the client's visits to
-- them. kind: doctor, physical_therapy, chiropractor, hospital, imaging, other.
CREATE TABLE treatment_providers (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    phone TEXT,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX treatment_providers_matter ON treatment_providers (matter_id, name);

-- status: 'visited' (a past visit, on or before today) or 'upcoming' (a
-- future appointment the client told us of). Only visits close a treatment gap.
CREATE TABLE treatment_visits (
    id TEXT PRIMARY KEY NOT NULL,
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES treatment_providers(id) ON DELETE CASCADE,
    visit_on DATE NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX treatment_visits_matter ON treatment_visits (matter_id, status, visit_on);

-- Appointments staff schedule for a client (medical exam, deposition,
-- mediation, call). sequence: the iCalendar SEQUENCE, one more on each change
-- or the cancellation, so a calendar replaces the event it has (same UID = id).
CREATE TABLE appointments (
    id TEXT PRIMARY KEY NOT NULL,
    firm_id TEXT NOT NULL REFERENCES firms(id),
    matter_id TEXT NOT NULL REFERENCES matters(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    place TEXT NOT NULL,
    bring TEXT,
    sequence INTEGER NOT NULL DEFAULT 0,
    cancelled_at TIMESTAMP,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_matter ON appointments (matter_id, starts_at);
CREATE INDEX appointments_starts ON appointments (starts_at);

-- A phase during which the client is treated: a matter there with no visit
-- logged for the firm's treatment_gap_days is flagged for staff.
ALTER TABLE phases ADD COLUMN treatment BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE phases SET treatment = TRUE WHERE practice_area = 'personal_injury' AND key = 'medical_treatment';
ALTER TABLE firms ADD COLUMN treatment_gap_days INTEGER NOT NULL DEFAULT 30;
