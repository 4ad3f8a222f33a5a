-- Document requests with a due date (a calendar date in the firm's time zone)
-- and how they are fulfilled: by the client's first upload (as before), or
-- only when staff mark them complete (a request for several files).
ALTER TABLE document_requests ADD COLUMN due_date DATE;
ALTER TABLE document_requests ADD COLUMN fulfil_on TEXT NOT NULL DEFAULT 'first_upload'
    CHECK (fulfil_on IN ('first_upload', 'staff'));
-- The notifier's daily look for requests due soon or overdue.
CREATE INDEX document_requests_due ON document_requests (status, due_date);

-- What staff may pick when they ask for a document: per firm, per language.
CREATE TABLE request_templates (
    firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    language TEXT NOT NULL,
    position INTEGER NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    details TEXT,
    PRIMARY KEY (firm_id, key, language)
);

-- The defaults for the firms that exist already (new firms get the same from
-- shared::requests::install_templates).
WITH defaults (key, language, position, category, title, details) AS (VALUES
    ('medical_bills', 'en', 1, 'medical_bill', 'Medical bills from your provider', 'Itemised bills from each doctor, hospital, clinic or pharmacy that treated you since the accident.'),
    ('medical_bills', 'es', 1, 'medical_bill', 'Facturas médicas de su proveedor', 'Facturas detalladas de cada médico, hospital, clínica o farmacia que le atendió desde el accidente.'),
    ('medical_records', 'en', 2, 'medical_record', 'Medical records', 'Records and reports from your visits: emergency room, doctor, therapy and imaging.'),
    ('medical_records', 'es', 2, 'medical_record', 'Expedientes médicos', 'Expedientes e informes de sus visitas: urgencias, médico, terapia y radiografías.'),
    ('police_report', 'en', 3, 'police_report', 'Police report', 'The accident or police report, or the report number if you only have that.'),
    ('police_report', 'es', 3, 'police_report', 'Informe policial', 'El informe del accidente o de la policía, o el número del informe si solo tiene eso.'),
    ('insurance_card', 'en', 4, 'insurance_letter', 'Insurance card', 'A photo of both sides of your health and auto insurance cards.'),
    ('insurance_card', 'es', 4, 'insurance_letter', 'Tarjeta del seguro', 'Una foto de ambos lados de sus tarjetas de seguro médico y de auto.'),
    ('injury_photos', 'en', 5, 'photo', 'Photos of your injuries', 'Clear photos of your injuries, taken now and as they heal.'),
    ('injury_photos', 'es', 5, 'photo', 'Fotos de sus lesiones', 'Fotos claras de sus lesiones, tomadas ahora y mientras sanan.'),
    ('lost_wages', 'en', 6, 'wage_proof', 'Proof of lost wages', 'Pay stubs from before the accident and a letter from your employer about the work you missed.'),
    ('lost_wages', 'es', 6, 'wage_proof', 'Prueba de salarios perdidos', 'Talones de pago de antes del accidente y una carta de su empleador sobre el trabajo que perdió.')
)
INSERT INTO request_templates (firm_id, key, language, position, category, title, details)
SELECT firms.id, defaults.key, defaults.language, defaults.position, defaults.category, defaults.title, defaults.details
FROM firms CROSS JOIN defaults;
