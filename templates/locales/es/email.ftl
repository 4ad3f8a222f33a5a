email-sign-in-subject = Su enlace de acceso a { $firm }
email-sign-in-greeting = Hola, { $name }:
email-sign-in-intro = Use este enlace para ver su caso en el portal de clientes de { $firm }:
email-sign-in-button = Entrar
email-sign-in-code = O escriba este código en la página de acceso: { $code }
email-sign-in-expiry = El enlace y el código funcionan una vez, durante 15 minutos.
email-sign-in-ignore = Si usted no pidió entrar, puede ignorar este correo; nadie puede entrar sin él.

## Novedades semanales
weekly-subject = { $firm }: novedades semanales de su caso
weekly-preheader = Cómo va su caso esta semana.
weekly-greeting = Hola, { $name }:
weekly-intro = Esto es lo que pasó en su caso esta semana.
weekly-intro-quiet = Sin cambios esta semana. Así están las cosas.
weekly-phase = Paso actual ({ $position } de { $total }): { $phase }
weekly-changes = Qué cambió
weekly-no-changes = Nada nuevo desde nuestra última actualización. Los casos a veces avanzan sin ruido durante un tiempo; seguimos trabajando en el suyo.
weekly-next = Qué pasa después
weekly-needs = { $count ->
    [one] Todavía necesitamos 1 documento de usted:
   *[other] Todavía necesitamos { $count } documentos de usted:
}
weekly-needs-none = No necesitamos nada de usted por ahora.
weekly-contact = ¿Preguntas? Comuníquese con { $name }:
weekly-portal = Vea los detalles y suba documentos en su portal:
weekly-portal-button = Abrir mi caso
weekly-rate = ¿Cómo lo estamos haciendo? Califíquenos del 1 (mal) al 5 (excelente):
weekly-unsubscribe = Dejar de recibir estos correos semanales
weekly-footer = Recibe esta actualización cada semana mientras su caso esté abierto.
weekly-change-phase_change = Su caso pasó a un nuevo paso: { $phase }
weekly-change-appointment = Se programó una cita para el { $date }
weekly-change-client_note = Su equipo legal le dejó un mensaje en el portal
weekly-change-document_received = { $count ->
    [one] Recibimos un documento
   *[other] Recibimos { $count } documentos
}
weekly-change-request_opened = Le pedimos un documento
weekly-change-request_fulfilled = Llegó un documento que le pedimos
category-medical_bill = Factura médica
category-medical_record = Expediente médico
category-photo = Foto
category-police_report = Informe policial
category-insurance_letter = Carta del seguro
category-wage_proof = Prueba de salarios perdidos
category-other = Otro documento

## Recibo de documentos
receipt-subject = { $firm }: recibimos sus documentos
receipt-greeting = Hola, { $name }:
receipt-body = Recibimos estos documentos para su caso «{ $matter }»:
receipt-portal = Puede verlos en su portal:

## Cambio de paso
phase-email-subject = { $firm }: su caso pasó a un nuevo paso ({ $phase })
phase-email-greeting = Hola, { $name }:
phase-email-intro = Su caso «{ $matter }» pasó a un nuevo paso.
phase-email-note = Una nota de su equipo legal:

# --- emails ---
email-hi = Hola, { $name }:
email-hi-neutral = Hola:
email-open-case = Abrir mi caso
email-open-cases = Abrir mis casos
email-upload-now = Subir ahora
email-step = Paso { $position } de { $total }
email-sign-in-link = Entre con este enlace:
email-sign-in-code-intro = O escriba este código en la página de acceso:
receipt-email-intro = Gracias. Recibimos { $count ->
    [one] 1 documento
   *[other] { $count } documentos
} para su caso «{ $matter }»:
receipt-email-next = Su equipo legal los revisará. Puede verlos en su caso cuando quiera.
email-rate-link = Califíquenos (del 1 al 5):

# --- messages ---
message-email-subject = { $firm }: tiene un mensaje nuevo
message-email-intro = Su equipo legal le envió un mensaje sobre su caso «{ $matter }».
message-email-intro-from = { $author } le envió un mensaje sobre su caso «{ $matter }».
message-email-private = Por su privacidad, léalo en su portal seguro.
message-email-open = Leer el mensaje
client-messages-subject = { $count ->
    [one] Mensaje nuevo de un cliente
   *[other] { $count } mensajes nuevos de un cliente
} ({ $matter })
client-messages-intro = { $count ->
    [one] Un cliente escribió en «{ $matter }» y espera respuesta:
   *[other] Un cliente escribió { $count } mensajes en «{ $matter }» y espera respuesta:
}
client-messages-files-only = (solo archivos)
client-messages-open = Abrir la conversación
client-messages-footer = Recibe este correo como mucho una vez por conversación cada 15 minutos. Responda en el portal, o marque los mensajes como atendidos si no necesitan respuesta.
weekly-unread-replies = { $count ->
    [one] Tiene 1 mensaje sin leer de su equipo legal.
   *[other] Tiene { $count } mensajes sin leer de su equipo legal.
}

# --- requests ---
reminder-subject-soon = { $count ->
    [one] Pronto vence la entrega de un documento
   *[other] Pronto vence la entrega de { $count } documentos
} ({ $firm })
reminder-subject-overdue = { $count ->
    [one] Un documento está atrasado
   *[other] Hay documentos atrasados
} ({ $firm })
reminder-intro-soon = { $count ->
    [one] Su equipo legal necesita pronto un documento suyo:
   *[other] Su equipo legal necesita pronto { $count } documentos suyos:
}
reminder-intro-overdue = { $count ->
    [one] Su equipo legal todavía espera un documento suyo:
   *[other] Su equipo legal todavía espera { $count } documentos suyos:
}
reminder-item-due = vence el { $date }
reminder-item-overdue = atrasado desde el { $date }
reminder-footer = Súbalos en el portal, desde su teléfono o computadora. Si no puede conseguir alguno, dígaselo a su equipo legal; le pueden ayudar.
# --- treatment ---
appointment-subject-scheduled = Cita el { $when } — { $firm }
appointment-subject-changed = Cita modificada: ahora el { $when } — { $firm }
appointment-subject-cancelled = Cita cancelada: { $when } — { $firm }
appointment-subject-reminder = Recordatorio: su cita el { $when } — { $firm }
appointment-email-scheduled = Hemos programado una cita para su caso «{ $matter }».
appointment-email-changed = Una cita de su caso «{ $matter }» ha cambiado. Estos son los nuevos datos.
appointment-email-cancelled = Una cita de su caso «{ $matter }» se ha cancelado. No tiene que ir.
appointment-email-reminder = Le recordamos que mañana tiene una cita de su caso «{ $matter }».
appointment-email-when = Cuándo
appointment-email-length = Duración
appointment-email-duration = { $minutes } minutos
appointment-email-place = Dónde
appointment-email-bring = Qué traer
appointment-email-calendar = Abra la invitación adjunta (appointment.ics) para añadirla a su calendario.
appointment-email-calendar-cancel = Abra el archivo adjunto (appointment.ics) para quitarla de su calendario.
appointment-kind-medical_exam = Examen médico
appointment-kind-deposition = Declaración jurada
appointment-kind-mediation = Mediación
appointment-kind-call = Llamada con su equipo legal
weekly-log-visits = No nos ha contado ninguna visita médica en las últimas 2 semanas. Ver a sus proveedores con regularidad es importante para su salud y para su caso: anote cada visita o próxima cita aquí:
