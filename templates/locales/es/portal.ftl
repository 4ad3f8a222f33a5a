## Todas las páginas
app-name = Matterline
skip-to-content = Saltar al contenido
nav-label = Principal
nav-my-cases = Mis casos
nav-sign-out = Cerrar sesión
nav-sign-out-everywhere = Cerrar sesión en todos los dispositivos
language-label = Idioma
footer-help = ¿Preguntas? Llame a su equipo legal: su número está en la página de su caso.
date-format = { $day } de { $month } de { $year }
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre

## Inicio de sesión
sign-in-title = Inicie sesión para ver su caso
sign-in-intro = Escriba el correo electrónico que dio a su bufete. Le enviaremos un enlace de acceso y un código de 6 dígitos. Nunca necesita contraseña.
sign-in-email-label = Correo electrónico
sign-in-email-hint = Por ejemplo: nombre@ejemplo.com
sign-in-submit = Enviarme un enlace de acceso
sign-in-have-code = ¿Ya tiene un código?
check-email-title = Revise su correo
check-email-body = Si { $email } pertenece a un cliente del bufete, acabamos de enviarle un enlace de acceso y un código de 6 dígitos. Cada uno funciona una vez, durante 15 minutos.
check-email-code-intro = ¿Lee su correo en otro dispositivo? Escriba aquí el código.
code-title = Entrar con un código
code-email-label = Correo electrónico
code-label = Código de 6 dígitos
code-submit = Entrar
code-send-new = Envíenme un código nuevo
check-email-retry = ¿No llegó nada? Revise la carpeta de correo no deseado o pida un enlace nuevo.
link-title = Continuar con el acceso
link-body = Pulse el botón para entrar en este dispositivo.
link-submit = Entrar
signed-out-title = Ha cerrado sesión
signed-out-body = Ha cerrado sesión en este dispositivo.
signed-out-everywhere-body = Ha cerrado sesión en todos sus dispositivos.
back-to-sign-in = Volver al inicio de sesión
back-to-my-cases = Volver a mis casos

## Errores
error-link-used-title = Este enlace de acceso ya no funciona
error-link-used-body = Los enlaces y códigos de acceso funcionan una vez, durante 15 minutos. Pida uno nuevo y use el correo más reciente.
error-code-wrong-title = Ese código no funcionó
error-code-wrong-body = Revise el código de 6 dígitos de su correo más reciente e inténtelo de nuevo. Los códigos funcionan una vez, durante 15 minutos; después de 5 intentos fallidos, pida uno nuevo.
error-rate-limited-title = Espere unos minutos, por favor
error-rate-limited-body = Hemos enviado varios correos de acceso hace poco. Para proteger su cuenta, espere 15 minutos antes de pedir otro.
error-mail-down-title = No pudimos enviar el correo
error-mail-down-body = Nuestro servicio de correo no responde en este momento. No se perdió nada; inténtelo de nuevo en unos minutos.
error-email-invalid = Escriba un correo como nombre@ejemplo.com.
error-code-invalid = Escriba los 6 dígitos de su correo.
error-not-found-title = Página no encontrada
error-not-found-body = Esta página no existe o usted no tiene acceso a ella.
error-unauthenticated-title = Inicie sesión, por favor
error-unauthenticated-body = Su sesión terminó. Inicie sesión de nuevo para continuar.
error-invalid-title = Revise lo que escribió
error-unavailable-title = El portal no está disponible por el momento
error-unavailable-body = Una parte de nuestro sistema no responde. No se perdió nada; inténtelo de nuevo en unos minutos.
error-cross-site-title = Este formulario vino de otro sitio
error-cross-site-body = Por su seguridad solo aceptamos formularios enviados desde las páginas de este portal. No se cambió nada. Vuelva al portal, recargue la página e inténtelo de nuevo.
error-internal-title = Algo salió mal
error-internal-body = Inténtelo de nuevo. Si sigue pasando, llame a su equipo legal.
error-reference = Referencia: { $id }

## Mis casos
dashboard-title = Mis casos
dashboard-greeting = Hola, { $name }
dashboard-intro = Así va cada uno de sus casos.
dashboard-empty = No tiene casos abiertos con nosotros.
dashboard-phase = Paso actual: { $phase }
dashboard-needs = { $count ->
    [one] Necesitamos 1 documento de usted
   *[other] Necesitamos { $count } documentos de usted
}
dashboard-needs-none = No necesitamos nada de usted por ahora
dashboard-open = Ver caso: { $title }

## Página del caso
matter-progress = Avance
phase-step = Paso { $position } de { $total }
phase-done = Hecho
phase-current = Paso actual
phase-upcoming = Próximamente
matter-current-phase = Dónde está su caso ahora
matter-what-it-means = Qué significa
matter-what-next = Qué pasa después
matter-request-requested = Pedido el { $date }
matter-upload = Subir
matter-upload-for = Subir: { $title }
matter-recent = Novedades recientes
matter-no-updates = Todavía no hay novedades.
matter-contact = Su contacto
matter-contact-role = Gestor del caso
matter-contact-phone = Teléfono
matter-contact-email = Correo
matter-updated = Última actualización: { $date }
milestone-phase_change = Su caso pasó a un nuevo paso: { $phase }
milestone-appointment = Cita: { $body }
milestone-appointment-on = el { $date }
milestone-client_note = Mensaje de su equipo legal
milestone-document_received = Recibimos un documento: { $body }
milestone-request_opened = Le pedimos un documento: { $body }
milestone-request_fulfilled = Documento recibido: { $body }

## Buzón de desarrollo
mailbox-title = Buzón de desarrollo
mailbox-intro = Correos que el portal habría enviado. Esta página solo existe mientras no haya un servidor SMTP configurado.
mailbox-empty = Todavía no hay correos.
mailbox-to = Para
mailbox-subject = Asunto
mailbox-date = Fecha
mailbox-open = Abrir

## Preferencias de correo, baja, calificación
nav-preferences = Notificaciones
preferences-title = Notificaciones
preferences-weekly-label = Enviarme cada semana por correo una actualización de mi caso
preferences-weekly-hint = Una vez por semana: cómo va su caso y qué necesitamos todavía. Sin detalles médicos.
preferences-save = Guardar
preferences-saved = Sus preferencias se guardaron.
unsubscribe-title = ¿Dejar de recibir las novedades semanales?
unsubscribe-body = Dejará de recibir el correo semanal sobre su caso. Puede entrar al portal para verlo cuando quiera.
unsubscribe-submit = Dejar de recibirlas
unsubscribed-title = Novedades semanales desactivadas
unsubscribed-body = Ya no recibirá novedades semanales por correo. Puede volver a activarlas en sus preferencias de correo.
link-invalid-title = Este enlace no funciona
link-invalid-body = Puede estar incompleto o ser muy antiguo. Inicie sesión para cambiar sus preferencias.
rate-title = ¿Cómo lo estamos haciendo?
rate-body = Elija un número del 1 (mal) al 5 (excelente).
rate-score = { $score } de 5
rate-chosen-pending = Eligió { $score } de 5. Todavía no se ha enviado: toque el botón de abajo para enviarlo.
rate-send-chosen = Enviar { $score } de 5
rate-change = O elija otro número (al tocarlo se envía):
rated-title = Gracias
rated-body = Su respuesta nos ayuda a atenderle mejor.

## Documentos y envíos
documents-title = Documentos
documents-none = Todavía no hay documentos.
documents-yours = Lo envió usted
documents-firm = De su equipo legal
documents-download = Descargar { $name }
upload-title = Enviar documentos
upload-intro = Envíe facturas médicas, expedientes, fotos, informes policiales o cartas de su seguro. Puede elegir varios archivos a la vez.
upload-for-request = Para: { $title }
upload-category-label = ¿Qué son estos documentos?
upload-files-label = Archivos (PDF o fotos, hasta { $max } cada uno)
upload-files-hint = En un teléfono puede tomar una foto ahora o elegir archivos que ya tiene.
upload-drop = O arrastre los archivos aquí
upload-submit = Enviar
upload-progress = Enviando… { $percent }%
upload-link = Enviar documentos
upload-closed-title = Este caso está cerrado
upload-closed-body = Su caso está cerrado, por eso ya no se pueden enviar documentos aquí. Si necesita enviar algo, llame a su equipo legal.
receipt-title = Lo que recibimos
receipt-intro = Gracias. Estos documentos llegaron bien:
receipt-none = No se guardó ningún documento.
receipt-refused = Estos archivos no se aceptaron:
receipt-failed = Falló el envío de { $name }: no se guardó nada de ese archivo. Inténtelo de nuevo.
receipt-incomplete = El envío de { $name } se interrumpió: no se guardó nada de ese archivo. Inténtelo de nuevo.
receipt-too-many-parts = Un envío puede tener como máximo 100 archivos; los siguientes no se leyeron. Envíelos en otro envío.
receipt-too-slow = El envío tardó demasiado y se detuvo: solo se guardaron los archivos de la lista de abajo. Envíe el resto de nuevo, pocos archivos a la vez.
receipt-too-large-stop = Los archivos que venían después en el mismo envío no se leyeron; envíelos de nuevo.
receipt-back = Volver a mi caso
receipt-more = Enviar más documentos
upload-refused-type = { $name }: no es un PDF ni una foto (JPEG, PNG, HEIC, TIFF o WebP). Envíe un PDF o una foto.
upload-refused-empty = { $name }: el archivo está vacío.
upload-refused-size = { $name }: el archivo es mayor de { $max }. Envíe un archivo más pequeño o divídalo.

doc-category-medical_bill = Factura médica
doc-category-medical_record = Expediente médico
doc-category-photo = Foto
doc-category-police_report = Informe policial
doc-category-insurance_letter = Carta del seguro
doc-category-wage_proof = Prueba de salarios perdidos
doc-category-other = Otro
upload-none-chosen = Elija al menos un archivo para enviar.

## Personal del despacho
milestone-internal_note = Nota interna
error-forbidden-title = No disponible para su cuenta
error-forbidden-body = Esta página es para otra función. Si cree que debería verla, pregunte al administrador de su despacho.
staff-sign-in-title = Acceso del personal
staff-sign-in-intro = Entre con su contraseña y el código de 6 dígitos de su aplicación de autenticación.
staff-password-label = Contraseña
staff-code-label = Código de su aplicación de autenticación
staff-code-hint = 6 dígitos; aparece un código nuevo cada 30 segundos.
staff-sign-in-submit = Entrar
staff-sign-in-client-link = ¿Es usted cliente? Entre aquí.
staff-sign-in-wrong = El correo, la contraseña o el código no son correctos. Inténtelo de nuevo.
staff-sign-in-wait = { $seconds ->
    [one] Demasiados intentos fallidos con este correo. Espere 1 segundo e inténtelo de nuevo.
   *[other] Demasiados intentos fallidos con este correo. Espere { $seconds } segundos e inténtelo de nuevo.
}
staff-nav-matters = Casos
staff-nav-new = Caso nuevo
staff-nav-settings = Ajustes del despacho
staff-invalid-field = Revise «{ $field }»:
staff-go-back = Volver
staff-matters-title = Casos
staff-filter-title = Filtrar
staff-filter-search = Título o identificador externo
staff-filter-phase = Fase
staff-filter-manager = Gestor del caso
staff-filter-any = Cualquiera
staff-filter-unassigned = Sin gestor
staff-filter-stale = Sin novedades al cliente en 14 días
staff-filter-unreviewed = Archivos por revisar
staff-filter-closed = Incluir casos cerrados
staff-filter-apply = Mostrar casos
staff-matters-count = { $count ->
    [one] 1 caso
   *[other] { $count } casos
}
staff-matters-none = Ningún caso coincide con estos filtros.
staff-matter-phase = Fase: { $phase }
staff-matter-manager = Gestor: { $name }
staff-last-update = Última novedad al cliente: { $date }
staff-no-update-yet = Aún no se ha enviado ninguna novedad semanal
staff-unreviewed-count = { $count ->
    [one] 1 archivo por revisar
   *[other] { $count } archivos por revisar
}
staff-open-requests = { $count ->
    [one] 1 solicitud de documento abierta
   *[other] { $count } solicitudes de documentos abiertas
}
staff-matter-closed = Cerrado
staff-back-to-matters = Volver a los casos
staff-new-matter-title = Cliente y caso nuevos
staff-client-legend = Cliente
staff-client-name = Nombre completo
staff-client-phone = Teléfono
staff-client-language = Idioma de los correos y las páginas
staff-matter-legend = Caso
staff-matter-title-label = Descripción breve (la ve el cliente)
staff-external-id = Identificador en su sistema de gestión de casos
staff-create-matter = Crear el caso
staff-opened = Abierto el { $date }
staff-phase-change = Pasar a otra fase
staff-new-phase = Fase nueva
staff-phase-note = Nota para el cliente (opcional)
staff-phase-submit = Cambiar la fase
staff-post-update = Publicar una novedad
staff-update-kind = Tipo
staff-kind-client_note = Nota para el cliente
staff-kind-internal_note = Nota interna (el cliente no la ve)
staff-kind-appointment = Cita
staff-update-body = Texto
staff-update-body-hint = El cliente lee las notas y las citas. Sin detalles médicos: el correo no es un lugar seguro para ellos.
staff-update-when = Fecha y hora (citas)
staff-update-submit = Publicar
staff-request-title = Pedir un documento
staff-request-what = ¿Qué necesita?
staff-request-details = Detalles para el cliente
staff-request-submit = Enviar la solicitud
staff-request-cancel = Cancelar la solicitud
staff-request-cancel-named = Cancelar la solicitud: { $title }
staff-request-open = Abierta
staff-request-fulfilled = Recibido
staff-request-cancelled = Cancelada
staff-documents-title = Documentos
staff-documents-none = Aún no hay documentos.
staff-reviewed-by = Revisado por { $name } el { $date }
staff-mark-reviewed = Marcar como revisado
staff-mark-reviewed-named = Marcar como revisado: { $name }
staff-share-title = Compartir un documento con el cliente
staff-share-hint = PDF o fotos (JPEG, PNG, HEIC, TIFF o WebP), de hasta { $max } cada uno. El cliente los ve en Documentos como enviados por su equipo legal.
staff-share-files = Archivos
staff-share-submit = Compartir con el cliente
staff-share-result-title = Compartir documentos
staff-share-stored = Estos documentos se compartieron con el cliente:
staff-share-back = Volver al caso
staff-shared-with-client = Compartido con el cliente
staff-timeline = Historial
staff-timeline-phase_change = Pasó a: { $phase }
staff-timeline-appointment = Cita: { $body }
staff-timeline-client_note = Nota para el cliente
staff-timeline-internal_note = Nota interna
staff-timeline-document_received = Documento recibido del cliente: { $body }
staff-timeline-request_opened = Documento pedido: { $body }
staff-timeline-request_fulfilled = Pedido cumplido: { $body }
staff-internal = Interna
staff-settings-title = Ajustes del despacho
staff-settings-admin-only = Solo un administrador puede cambiar estos ajustes.
staff-settings-name = Nombre del despacho (lo ven los clientes)
staff-settings-sender = Remitente de los correos
staff-settings-sender-hint = Por ejemplo: Smith Injury Law <updates@smithlaw.example>. Déjelo en blanco para usar el del servidor.
staff-settings-time-zone = Zona horaria
staff-settings-time-zone-hint = Por ejemplo: America/Chicago. La novedad semanal se envía en esta zona horaria.
staff-settings-schedule = Horario de la novedad semanal
staff-settings-schedule-hint = Una expresión cron con segundos, por ejemplo 0 0 9 * * Mon. Déjelo en blanco para usar el del servidor: { $default }
staff-settings-no-activity = Enviar una novedad breve en las semanas sin actividad
staff-settings-closed-uploads = Permitir que los clientes envíen documentos a casos cerrados
staff-settings-closed-uploads-hint = Si está desactivado, al cliente que intente enviar documentos a un caso cerrado se le dice que el caso está cerrado y que llame al despacho.
staff-settings-save = Guardar los ajustes
staff-settings-schedule-off = desactivado
staff-settings-sign-ins = Accesos del personal
staff-settings-sign-ins-hint = Tras muchas contraseñas o códigos incorrectos para un correo, cada nuevo intento debe esperar un poco más. Si un compañero tiene que esperar, borre aquí sus intentos fallidos.
staff-settings-sign-ins-failures = { $count ->
    [0] Ningún acceso fallido en las últimas 24 horas
    [one] 1 acceso fallido en las últimas 24 horas
   *[other] { $count } accesos fallidos en las últimas 24 horas
}
staff-settings-unlock = Borrar los accesos fallidos de { $name }
staff-sent-title = Lo que se envió
staff-sent-none = Aún no se ha enviado ningún correo a los clientes de este caso.
staff-mail-weekly_update = Novedad semanal
staff-mail-sign_in = Enlace de acceso
staff-mail-upload_receipt = Acuse de recibo de archivos
staff-mail-phase_change = Cambio de paso
staff-mail-message_reply = Aviso de mensaje nuevo
staff-mail-client_messages = Mensajes nuevos del cliente
staff-mail-status-pending = pendiente de envío
staff-mail-status-sending = enviándose
staff-mail-status-sent = enviado
staff-mail-status-failed = falló
staff-mail-status-skipped = no enviado
# --- staff workspace ---
staff-done-phase-changed = La fase ha cambiado. Los clientes del asunto reciben un correo al respecto.
staff-done-update-posted = Su actualización ya está en la cronología.
staff-done-request-sent = Solicitud enviada. El cliente la ve en “lo que necesitamos de usted”.
staff-done-request-cancelled = Solicitud cancelada. El cliente ya no la ve.
staff-done-documents-shared = Compartido con el cliente. Lo ve entre sus documentos.
staff-done-reviewed = Marcado como revisado.
staff-done-recategorised = Categoría cambiada.
staff-done-filter-saved = Filtro guardado. Está en “Mis filtros guardados”.
staff-done-filter-deleted = Filtro guardado eliminado.
staff-saved-title = Mis filtros guardados
staff-saved-none = Aún no hay ninguno. Filtre y ordene la tabla y guárdela con un nombre.
staff-saved-delete = Eliminar
staff-saved-delete-named = Eliminar el filtro guardado: { $name }
staff-saved-name = Guardar este filtro y orden como
staff-saved-submit = Guardar filtro
staff-filter-search-any = Cliente, título o id externo
staff-filter-all = Todos
staff-filter-mine = Mis asuntos
staff-table-caption = Asuntos (ordene por cualquier encabezado de columna)
staff-col-client = Cliente
staff-col-matter = Asunto
staff-col-phase = Fase
staff-col-days = Días desde la actualización
staff-col-requests = Solicitudes abiertas
staff-col-review = Archivos por revisar
staff-col-manager = Gestor del caso
staff-more-clients = { $count ->
    [one] +1 más
   *[other] +{ $count } más
}
staff-never = nunca
staff-preview = Vista previa
staff-preview-named = Vista previa: { $name }
staff-preview-of = Vista previa de { $name }
staff-review-pick-named = Seleccionar para marcar como revisado: { $name }
staff-review-picked = Marcar como revisados los documentos seleccionados
staff-recategorise-label = Categoría
staff-recategorise = Cambiar categoría
staff-recategorise-named = Cambiar la categoría de { $name }

# --- branding and firm settings ---
footer-call = ¿Preguntas? Llame a { $firm } al
footer-signed-out = ¿Preguntas sobre su caso? Llame a su equipo legal.
staff-settings-phone-hint = Los clientes lo ven en la página de su caso y al pie de las páginas de inicio de sesión.
staff-settings-time-zone-list-hint = La actualización semanal se envía en esta zona horaria.
staff-settings-zones-us = Zonas horarias comunes de EE. UU.
staff-settings-zones-all = Todas las zonas horarias
zone-eastern = Hora del Este
zone-central = Hora del Centro
zone-mountain = Hora de la Montaña
zone-arizona = Arizona (sin horario de verano)
zone-pacific = Hora del Pacífico
zone-alaska = Hora de Alaska
zone-hawaii = Hora de Hawái
staff-settings-schedule-custom = Horario personalizado (configurado por la API):
staff-settings-schedule-replace = Reemplazarlo por el día y la hora de abajo
staff-settings-weekday = Día
staff-settings-schedule-default = El predeterminado del servidor ({ $default })
staff-settings-time = Hora
staff-settings-schedule-picker-hint = La actualización semanal se envía este día a esta hora, en la zona horaria de la firma.
weekday-mon = lunes
weekday-tue = martes
weekday-wed = miércoles
weekday-thu = jueves
weekday-fri = viernes
weekday-sat = sábado
weekday-sun = domingo
staff-settings-look = Cómo ven los clientes a la firma
staff-settings-accent = Color de acento
staff-settings-accent-hint = Se usa en botones, enlaces y correos. Debe ser lo bastante oscuro para que el texto blanco sobre él se lea con facilidad.
staff-settings-reply-to = Las respuestas a los correos de los clientes van al gestor del caso
staff-settings-reply-to-hint = Si está desactivado, las respuestas van al remitente de correos indicado arriba.
staff-settings-public-host = Dirección propia del portal de la firma (opcional)
staff-settings-public-host-hint = Un nombre de host como portal.smithlaw.example, si apunta a este portal. Las páginas de inicio de sesión abiertas en esa dirección muestran el nombre, el logotipo y el color de la firma.
staff-settings-logo = Logotipo
staff-settings-logo-current = Logotipo actual de { $firm }
staff-settings-logo-none = Todavía no hay logotipo: las páginas y los correos muestran el nombre de la firma.
staff-settings-logo-file = Imagen del logotipo
staff-settings-logo-hint = PNG, JPEG o WebP, de 512 KB como máximo. Un logotipo ancho sobre fondo blanco o transparente se ve mejor.
staff-settings-logo-upload = Subir logotipo
staff-settings-logo-remove = Quitar logotipo

# --- emails ---
short-link-gone-title = Este enlace ya no funciona
short-link-gone-body = Los enlaces de nuestros correos dejan de funcionar después de un tiempo, y los de acceso a los 15 minutos. Entre para ver su caso; le enviaremos un enlace nuevo por correo.
short-link-sign-in = Entrar

# --- client case page and phone upload ---
matter-upload-now = Subir ahora
matter-calm-body = Su equipo legal está trabajando en su caso. Le avisaremos aquí y por correo si necesitamos algo.
matter-call = Llamar
matter-email = Escribir
matter-call-label = Llamar a { $name }, su gestor del caso
matter-email-label = Escribir a { $name }, su gestor del caso
matter-contact-bar = Contactar a su gestor del caso
matter-all-steps = Ver los { $total } pasos
milestone-documents-received = { $count ->
    [one] Recibimos un documento: { $body }
   *[other] Recibimos { $count } documentos: { $body }
}
upload-add = Añadir fotos o archivos
upload-chosen-note = Archivos elegidos. Pulse «Enviar» para enviarlos.
upload-chosen-title = Archivos para enviar
upload-remove = Quitar
upload-remove-file = Quitar { $name }
upload-file-category = Tipo de documento
receipt-success = Enviado. Ya tenemos sus documentos.
receipt-request-complete = Pedido completado: { $title }
receipt-next-title = Qué pasa después
receipt-next = Su equipo legal revisará sus documentos y se pondrá en contacto con usted si hace falta algo más. Puede verlos en la página de su caso.
# --- one upload, one staff timeline line ---
staff-timeline-documents-received = { $count ->
    [one] Documento recibido del cliente: { $body }
   *[other] { $count } documentos recibidos del cliente: { $body }
}

# --- client messages ---
staff-settings-message-text = Incluir el texto de las respuestas en el correo de «mensaje nuevo»
staff-settings-message-text-hint = Desactivado (recomendado): el correo solo avisa de que hay un mensaje, y el cliente lo lee tras iniciar sesión. El correo no está cifrado de extremo a extremo.
messages-title = Mensajes
messages-conversation = Su conversación con su equipo legal
messages-list-label = Mensajes, del más antiguo al más reciente
messages-you = Usted
messages-legal-team = su equipo legal
messages-attachments = Archivos enviados con este mensaje
messages-read = Leído por su equipo legal
messages-delivered = Enviado
messages-none = Todavía no hay mensajes. Pregunte aquí a su equipo legal lo que quiera sobre su caso.
messages-compose-title = Escriba a su equipo legal
messages-compose-label = Su mensaje
messages-compose-hint = Su equipo legal responde en horario de oficina. En una emergencia, llame al 911.
messages-attach = Adjuntar fotos o archivos
messages-attach-hint = Opcional. Fotos o archivos PDF, de hasta { $max } cada uno.
messages-send = Enviar mensaje
messages-sent = Su mensaje fue enviado. Su equipo legal le responderá aquí, y le avisaremos por correo cuando lo haga.
messages-not-attached = Estos archivos no se adjuntaron:
messages-closed = Este caso está cerrado y no admite mensajes nuevos. Por favor, llame a su equipo legal.
messages-rate-limited-title = Espere un poco, por favor
messages-rate-limited-body = Ha enviado muchos mensajes en la última hora. Espere un rato antes de enviar otro, o llame a su equipo legal.
messages-back = Volver a mis mensajes
messages-error-not-sent = No se pudo enviar su mensaje en este momento. Sigue en el cuadro de abajo: inténtelo de nuevo en un minuto.
message-error-empty = Escriba un mensaje o adjunte un archivo.
message-error-too-long = Su mensaje es demasiado largo. Manténgalo por debajo de { $max } caracteres, o envíelo en dos partes.
message-error-control = Su mensaje contiene un carácter de control oculto (suele venir de copiar texto). Vuelva a escribir esa parte y envíelo de nuevo.
messages-new = { $count ->
    [one] 1 nuevo
   *[other] { $count } nuevos
}
messages-all = Ver los { $count } mensajes
dashboard-unread = { $count ->
    [one] 1 mensaje sin leer de su equipo legal
   *[other] { $count } mensajes sin leer de su equipo legal
}
# --- staff messages ---
staff-msg-nav = Mensajes
staff-msg-nav-waiting = { $count ->
    [one] Mensajes (1 conversación espera respuesta)
   *[other] Mensajes ({ $count } conversaciones esperan respuesta)
}
staff-msg-inbox-title = Mensajes
staff-msg-show-label = Mostrar conversaciones
staff-msg-show-unanswered = Esperan respuesta
staff-msg-show-mine = Mis casos
staff-msg-show-all = Todas
staff-msg-empty-unanswered = Nada espera respuesta. Todos los mensajes de clientes tienen respuesta.
staff-msg-empty-mine = Ningún cliente ha escrito todavía en los casos que usted gestiona.
staff-msg-empty-all = Ningún cliente ha escrito todavía.
staff-msg-unanswered-count = { $count ->
    [one] 1 mensaje sin responder
   *[other] { $count } mensajes sin responder
}
staff-msg-waiting-minutes = { $count ->
    [0] espera desde hace menos de un minuto
    [one] espera desde hace 1 minuto
   *[other] espera desde hace { $count } minutos
}
staff-msg-waiting-hours = { $count ->
    [one] espera desde hace 1 hora
   *[other] espera desde hace { $count } horas
}
staff-msg-waiting-days = { $count ->
    [one] espera desde hace 1 día
   *[other] espera desde hace { $count } días
}
staff-msg-waiting-since = (desde { $at })
staff-msg-nothing-waiting = Nada en espera. Último mensaje: { $at }.
staff-msg-reply-label = Responder a «{ $title }»
staff-msg-send-reply = Enviar respuesta
staff-msg-send-reply-named = Enviar respuesta: { $title }
staff-msg-handled = Atendido, no hace falta responder
staff-msg-handled-named = Atendido, no hace falta responder: { $title }
staff-msg-handled-hint = No se envía nada al cliente; los mensajes salen de la lista de espera.
staff-msg-section-title = Mensajes con el cliente
staff-msg-thread-none = Aún no hay mensajes. Lo que escriba aquí llega a los clientes del caso en su página y por correo.
staff-msg-kind-client = Cliente
staff-msg-kind-reply = Respuesta al cliente
staff-msg-kind-note = Nota interna
staff-msg-kind-handled = Atendido
staff-msg-note-flag = Nota interna — los clientes nunca la ven
staff-msg-handled-by = Marcado como atendido por { $name }
staff-msg-handled-by-former = Marcado como atendido por un antiguo miembro del equipo
staff-msg-former-author = Antiguo usuario
staff-msg-files = Archivos enviados con el mensaje
staff-msg-read-by-client = Leído por el cliente el { $at }
staff-msg-waiting-reply = Espera respuesta
staff-msg-write-label = Su mensaje
staff-msg-write-hint = Los clientes del caso lo ven en su página y reciben un correo 5 minutos después si no lo han leído antes. Marque «Nota interna» para que quede solo entre el equipo.
staff-msg-internal-label = Nota interna (solo el equipo)
staff-msg-send = Enviar
staff-msg-done-reply-sent = Respuesta enviada. Los clientes reciben un correo en 5 minutos si no la leen antes.
staff-msg-done-note-saved = Nota interna guardada. Los clientes nunca la ven.
staff-msg-done-marked-handled = Marcado como atendido. No se envió nada al cliente.

# Virus scanning (clamd)
upload-refused-infected = { $name }: nuestra revisión antivirus encontró algo dañino en este archivo, así que no se guardó. Si no lo esperaba, avise a su equipo legal.
receipt-scan-failed = No se pudo revisar { $name } en busca de virus en este momento, así que no se guardó, y los archivos que venían después no se enviaron. Inténtelo de nuevo más tarde.

# --- locales ---
# El idioma con su propio nombre: lo muestran el selector de idioma y los formularios del personal.
language-name = Español
# --- requests ---
day-format = { $weekday } { $day } de { $month }
matter-request-due = Vence el { $date }
matter-request-overdue = Atrasado
staff-filter-overdue = Documentos atrasados
staff-overdue-count = { $count } atrasados
staff-request-template = Partir de una solicitud preparada
staff-request-template-none = Ninguna: la escribo yo
staff-request-template-hint = Con una solicitud preparada, deje vacío «¿Qué necesita?» para usar su texto en el idioma del cliente.
staff-request-due = Fecha límite (opcional)
staff-request-fulfil = ¿Cuándo queda completa?
staff-request-fulfil-first_upload = Cuando el cliente sube un archivo
staff-request-fulfil-staff = Solo cuando yo la marque completa (varios archivos)
staff-request-due-on = Vence el { $date }
staff-request-overdue = Atrasada
staff-request-waits-for-staff = Sigue abierta hasta marcarla completa
staff-request-complete = Marcar completa
staff-request-complete-named = Marcar completa: { $title }
staff-request-change-due = Cambiar fecha límite
staff-request-change-due-named = Fecha límite de: { $title }
staff-request-save-due = Guardar fecha
staff-done-request-completed = Solicitud marcada como completa. El cliente la ve como recibida.
staff-done-request-due-changed = Fecha límite guardada.
staff-request-category-auto = La de la solicitud preparada (si no, Otro)
staff-mail-request_reminder = Recordatorio de documentos
# --- onetap ---
one-tap-title = Abra su caso
one-tap-body = Pulse el botón para iniciar sesión en este dispositivo y ver su caso. No necesita ningún código.
one-tap-submit = Abrir mi caso
one-tap-once = Este botón funciona una sola vez, durante 7 días desde que se envió el correo. Si otra persona tiene este correo, no lo pulse.
one-tap-spent-title = Este enlace ya se usó o ha caducado
one-tap-spent-body = Por su seguridad, el botón de nuestros correos funciona una sola vez y solo durante 7 días. Podemos enviarle por correo un código de 6 dígitos para iniciar sesión.
one-tap-spent-submit = Enviarme un código de acceso
staff-settings-one-tap = Que el botón «Abrir mi caso» de los correos a clientes inicie sesión con un solo toque
staff-settings-one-tap-hint = Activado: el botón funciona una sola vez, durante 7 días, y deja de funcionar cuando el cliente cierra todas sus sesiones. Cualquier persona a quien se reenvíe el correo podría usarlo. Desactivado: el botón abre la página de inicio de sesión con la dirección del cliente ya escrita, y el cliente pide un código.
# --- treatment ---
care-title = Citas y tratamiento
care-appointments = Sus próximas citas
care-intro = Siga yendo a sus citas médicas y avísenos cada vez que vea a un proveedor: un tratamiento regular es importante para su salud y para su caso.
care-latest-visits = Sus últimas visitas
care-log-visit = Fui a una consulta
care-log-upcoming = Tengo una cita
care-cancelled = Cancelada
treatment-title = Registro de tratamiento
treatment-form-title = Cuéntenos de una visita
treatment-status-legend = ¿Qué nos quiere contar?
treatment-status-visited = Fui a una consulta
treatment-status-upcoming = Tengo una cita próxima
treatment-date = Fecha
treatment-date-hint = Una visita: hoy o antes. Una cita próxima: hoy o después.
treatment-provider = Proveedor
treatment-provider-new = Un proveedor nuevo (complete abajo)
treatment-new-provider = Proveedor nuevo
treatment-new-provider-hint = Solo si el proveedor no está en la lista de arriba.
treatment-provider-name = Nombre del médico, clínica u hospital
treatment-provider-kind = Tipo de proveedor
treatment-provider-phone = Su número de teléfono (opcional)
treatment-note = Nota (opcional)
treatment-note-hint = No hace falta dar detalles médicos: los obtenemos de sus expedientes.
treatment-submit = Guardar
treatment-log-title = Registro de tratamiento
treatment-log-none = Todavía no hay visitas registradas.
treatment-visited-on = Visita el { $date }
treatment-upcoming-on = Cita el { $date }
treatment-logged-visit = Gracias. Su visita quedó guardada.
treatment-logged-upcoming = Gracias. Su cita quedó guardada.
treatment-error-date = Escriba la fecha de la visita, por ejemplo 2027-01-05.
treatment-error-provider = Elija un proveedor de la lista o escriba el nombre de uno nuevo.
treatment-error-future = Una visita no puede ser en el futuro. Si todavía no ocurrió, elija «Tengo una cita próxima».
treatment-error-past = Una cita próxima no puede ser en el pasado. Si ya fue, elija «Fui a una consulta».
treatment-error-note = La nota es demasiado larga o tiene caracteres que no podemos guardar.
treatment-error-status = Indique si fue a una consulta o si tiene una cita próxima.
provider-kind-doctor = Médico
provider-kind-physical_therapy = Fisioterapia
provider-kind-chiropractor = Quiropráctico
provider-kind-hospital = Hospital o sala de emergencias
provider-kind-imaging = Imágenes (rayos X, resonancia, tomografía)
provider-kind-other = Otro
staff-treatment-title = Tratamiento
staff-treatment-gap-badge = { $days } días sin tratamiento
staff-treatment-gap-note = No hay visitas registradas desde hace { $days } días durante el tratamiento. Las aseguradoras descuentan las interrupciones del tratamiento: comuníquese con el cliente.
staff-appointments-title = Citas
staff-appointments-none = No hay citas programadas.
staff-appointment-cancel = Cancelar la cita
staff-appointment-cancel-named = Cancelar la cita: { $when }
staff-appointment-schedule = Programar una cita
staff-appointment-kind = Tipo
staff-appointment-starts = Comienza (hora del despacho)
staff-appointment-minutes = Duración en minutos
staff-appointment-place = Dónde
staff-appointment-bring = Qué traer
staff-appointment-hint = Los clientes del caso reciben un correo con una invitación de calendario y un recordatorio el día anterior.
staff-appointment-submit = Programar
staff-visit-legend = Qué ocurrió
staff-visit-title = Registrar una visita
staff-visit-visited = El cliente fue a una consulta
staff-visit-upcoming = El cliente tiene una cita próxima
staff-visit-submit = Registrar la visita
staff-done-visit-logged = La visita está en el registro de tratamiento.
staff-done-appointment-scheduled = Cita programada. Los clientes reciben un correo con una invitación de calendario.
staff-done-appointment-cancelled = Cita cancelada. Los clientes reciben un correo que la quita de su calendario.
staff-filter-treatment-gap = Interrupción del tratamiento
staff-settings-treatment-gap = Días sin tratamiento antes de marcar un caso
staff-settings-treatment-gap-hint = Un caso en una fase de tratamiento sin visitas registradas durante esta cantidad de días se marca en la tabla de casos.
staff-mail-appointment = Cita
staff-mail-appointment_reminder = Recordatorio de cita
# --- push ---
install-short-name = Mi caso
install-description = En qué punto está su caso, qué sigue y qué necesitamos de usted.
install-hint-text = Agregue este sitio a su pantalla de inicio para abrir su caso con un toque.
install-hint-ios = En Safari, toque Compartir y luego “Agregar a pantalla de inicio”.
install-hint-add = Agregar a la pantalla de inicio
install-hint-dismiss = Ahora no
offline-title = No hay conexión
offline-body = Esta página necesita conexión a internet. Nada de su caso se guarda en este dispositivo. Revise su conexión e inténtelo de nuevo.
offline-retry = Intentar de nuevo
push-heading = Notificaciones en este dispositivo
push-hint = Una notificación cuando su caso pase a una nueva etapa, cuando necesitemos un documento suyo o cuando respondamos a su mensaje. Nunca muestra detalles de su caso.
push-status-on = Las notificaciones están activadas en este dispositivo.
push-status-off = Las notificaciones están desactivadas en este dispositivo.
push-status-denied = Este navegador bloquea las notificaciones de este sitio. Puede permitirlas en la configuración del navegador.
push-status-failed = No se pudieron activar las notificaciones. Inténtelo de nuevo más tarde.
push-turn-on = Activar notificaciones
push-turn-off = Desactivar notificaciones
push-unsupported = Las notificaciones necesitan un navegador compatible, con JavaScript activado. Le seguiremos enviando correos.
push-devices = { $count ->
    [one] Las notificaciones están activadas en 1 dispositivo.
   *[other] Las notificaciones están activadas en { $count } dispositivos.
}
push-off-everywhere = Desactivar las notificaciones en todos los dispositivos
push-prompt-text = Reciba una notificación en este teléfono cuando su caso avance o cuando necesitemos algo de usted.
push-prompt-later = Ahora no
push-phase-change-title = Su caso pasó a una nueva etapa
push-phase-change-body = Ahora: { $step }
push-reply-title = Nuevo mensaje de su equipo legal
push-reply-body = Abra su caso para leerlo.
push-request-title = Su equipo legal necesita un documento
push-request-body = Abra su caso para ver qué enviar.

## Text messages (SMS): short notices, at most two segments with the link; no case details beyond the step's name.
sms-phase-change = Su caso pasó a una nueva etapa: { $step }. Detalles:
sms-reply = Tiene un mensaje nuevo sobre su caso. Léalo:
sms-request = Su equipo legal necesita un documento suyo. Vea qué enviar:
sms-reminder = Recordatorio: pronto vencen documentos de su caso. Vea qué enviar:
sms-reminder-overdue = Recordatorio: hay documentos vencidos de su caso. Vea qué enviar:
sms-appointment-reminder = Recordatorio: su cita es el { $when }. Detalles:
sms-keyword-stop = { $firm }: ya no recibirá mensajes de texto nuestros. Responda COMENZAR para recibirlos de nuevo.
sms-keyword-start = { $firm }: recibirá de nuevo mensajes sobre su caso. Responda PARAR para dejarlos, AYUDA para ayuda.
sms-keyword-help = { $firm }: mensajes sobre su caso. Responda PARAR para dejarlos. Ayuda: { $contact }
sms-pointer = { $firm }: no sabemos a qué caso se refiere. Escríbanos en el portal: { $url }
staff-sms-status = texto: { $status }
preferences-sms-heading = Mensajes de texto
preferences-sms-number = Número de celular
preferences-sms-number-hint = Con el código del país, por ejemplo +1 201 555 0123.
preferences-sms-opt-in = Sí, envíenme mensajes de texto sobre mi caso
preferences-sms-opt-in-hint = Avisos breves cuando su caso avanza, cuando necesitamos un documento o le respondemos, y recordatorios. Pueden aplicarse tarifas de mensajes y datos. Responda PARAR a cualquier mensaje para dejarlos, AYUDA para ayuda.
preferences-sms-invalid = Este no es un número de celular al que podamos escribir. Escríbalo con el código del país, por ejemplo +1 201 555 0123.
preferences-sms-unavailable = Su equipo legal no envía mensajes de texto.
staff-client-sms-number = Celular para mensajes de texto (opcional)
staff-client-sms-opt-in = El cliente pidió recibir mensajes de texto
staff-client-sms-opt-in-hint = Márquelo solo si el cliente lo dijo: se registra como su consentimiento, dado al personal, ahora. Puede responder PARAR en cualquier momento.
staff-settings-sms-hours = Horario de mensajes de texto
staff-settings-sms-hours-hint = Los mensajes de texto a clientes salen solo entre estas horas, en la zona horaria del despacho; los demás esperan a la mañana siguiente.
staff-settings-sms-off = Los mensajes de texto no están configurados en este portal; este horario se aplicará cuando lo estén.
staff-settings-sms-from = Desde (hora, 0–23)
staff-settings-sms-until = Hasta (hora, 1–24)
# --- insights (/staff/insights) ---
staff-nav-insights = Indicadores
insights-title = Indicadores
insights-scope-firm = Todo el despacho
insights-scope-person = Asuntos de { $name }
insights-range = del { $from } al { $to }
insights-as-of = cifras del { $at }
insights-form-heading = Periodo y alcance
insights-from = Desde
insights-to = Hasta (incluido)
insights-scope-label = Asuntos de quién
insights-show = Mostrar
insights-adoption = Adopción
insights-activation = Activación: asuntos abiertos con un cliente invitado
insights-engagement = Participación: clientes invitados que entraron en los últimos 30 días
insights-share = { $count } de { $of }
insights-grade = Nota { $grade }
insights-grade-a = A: 75 % o más
insights-grade-b = B: del 60 al 74 %
insights-grade-c = C: del 25 al 59 %
insights-grade-d = D: menos del 25 %
insights-grades-explained = Notas como las que Case Status da a los despachos: A con 75 % o más, B del 60 al 74 %, C del 25 al 59 %, D por debajo del 25 %.
insights-weekly = Novedades semanales
insights-coverage = Asuntos abiertos cuyos clientes recibieron novedades en los últimos 7 días
insights-failed = Novedades semanales que fallaron en el periodo
insights-failures-caption = Las últimas novedades semanales que fallaron
insights-col-client = Cliente
insights-col-when = Cuándo
insights-col-error = Respuesta del servidor de correo
insights-satisfaction = Satisfacción
insights-ratings = Valoraciones en el periodo
insights-average = Media
insights-out-of-five = { $value } de 5
insights-none = aún ninguna
insights-axis-ratings = Valoraciones
insights-axis-average = Media (1–5)
insights-axis-matters = Asuntos
insights-col-score = Puntuación
insights-col-week = Semana
insights-col-manager = Gestor del caso
insights-by-manager = Valoraciones por gestor del caso
insights-chart-ratings-title = Valoraciones por puntuación, de 1 a 5
insights-chart-ratings-desc = Gráfico de barras con cuántas valoraciones dieron cada puntuación, de 1 (la más baja) a 5 (la más alta); la tabla de al lado da cada número.
insights-chart-trend-title = Valoración media por semana
insights-chart-trend-desc = Gráfico de líneas con la valoración media de cada semana del periodo que tuvo valoraciones, en una escala de 1 a 5; la tabla de al lado da el número y la media de cada semana.
insights-requests = Solicitudes de documentos
insights-requests-open = Abiertas ahora
insights-requests-overdue = Vencidas (abiertas, fecha límite pasada)
insights-requests-fulfilled = Cumplidas en el periodo
insights-requests-median = Mediana del tiempo hasta cumplirse
insights-days = { $value } días
insights-messages = Mensajes de clientes
insights-messages-from-clients = Mensajes de clientes en el periodo
insights-messages-median = Mediana del tiempo hasta la respuesta del despacho
insights-hours = { $value } horas
insights-messages-unanswered = Esperando más de un día hábil ahora
insights-phases = Asuntos por fase
insights-phases-caption = Asuntos abiertos y días en cada fase
insights-chart-phases-title = Asuntos abiertos por fase
insights-chart-phases-desc = Gráfico de barras con cuántos asuntos abiertos hay en cada fase ahora, en el orden de las fases; la tabla de al lado da también la mediana de días en cada fase.
insights-col-phase = Fase
insights-col-open = Asuntos abiertos
insights-col-stays = Fases terminadas en el periodo
insights-col-median-days = Mediana de días en la fase
insights-quarters = Asuntos abiertos y cerrados
insights-col-quarter = Trimestre
insights-opened = Abiertos
insights-closed = Cerrados
insights-chart-quarters-title = Asuntos abiertos y cerrados por trimestre
insights-chart-quarters-desc = Gráfico de barras con los asuntos abiertos (azul) y cerrados (naranja) en cada trimestre natural del periodo; la tabla de al lado da cada número.
insights-csv = Descargar las tablas (CSV)
insights-csv-adoption = Adopción
insights-csv-weekly-failures = Novedades semanales fallidas
insights-csv-satisfaction-weeks = Valoraciones por semana
insights-csv-satisfaction-managers = Valoraciones por gestor del caso
insights-csv-phases = Fases
insights-csv-quarters = Trimestres
