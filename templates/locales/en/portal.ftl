## Every page
app-name = Matterline
skip-to-content = Skip to content
nav-label = Main
nav-my-cases = My cases
nav-sign-out = Sign out
nav-sign-out-everywhere = Sign out on all devices
language-label = Language
footer-help = Questions? Call your legal team — their number is on your case page.
date-format = { $month } { $day }, { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Sign-in
sign-in-title = Sign in to see your case
sign-in-intro = Enter the email address you gave your law firm. We will email you a sign-in link and a 6-digit code. You never need a password.
sign-in-email-label = Email address
sign-in-email-hint = For example: name@example.com
sign-in-submit = Email me a sign-in link
sign-in-have-code = Already have a code?
check-email-title = Check your email
check-email-body = If { $email } belongs to a client of the firm, we have just sent a sign-in link and a 6-digit code. Each works once, within 15 minutes.
check-email-code-intro = Reading your email on another device? Type the code here instead.
code-title = Sign in with a code
code-email-label = Email address
code-label = 6-digit code
code-submit = Sign in
code-send-new = Send me a new code
check-email-retry = Nothing arrived? Check your spam folder, or ask for a new link.
link-title = Continue signing in
link-body = Press the button to sign in on this device.
link-submit = Sign in
signed-out-title = You are signed out
signed-out-body = You have been signed out on this device.
signed-out-everywhere-body = You have been signed out on all your devices.
back-to-sign-in = Back to sign in
back-to-my-cases = Back to my cases

## Errors
error-link-used-title = This sign-in link no longer works
error-link-used-body = Sign-in links and codes work once, within 15 minutes. Ask for a new one and use the newest email.
error-code-wrong-title = That code did not work
error-code-wrong-body = Check the 6-digit code in your newest email and try again. Codes work once, within 15 minutes; after 5 wrong tries, ask for a new one.
error-rate-limited-title = Please wait a few minutes
error-rate-limited-body = We have sent several sign-in emails recently. To protect your account, please wait 15 minutes before asking again.
error-mail-down-title = We could not send the email
error-mail-down-body = Our email service is not answering right now. Nothing was lost; please try again in a few minutes.
error-email-invalid = Enter an email address like name@example.com.
error-code-invalid = Enter the 6 digits from your email.
error-not-found-title = Page not found
error-not-found-body = This page does not exist, or you do not have access to it.
error-unauthenticated-title = Please sign in
error-unauthenticated-body = Your session has ended. Sign in again to continue.
error-invalid-title = Please check what you entered
error-unavailable-title = The portal is temporarily unavailable
error-unavailable-body = Part of our system is not answering. Nothing was lost; please try again in a few minutes.
error-cross-site-title = This form came from another site
error-cross-site-body = For your safety we only accept forms sent from this portal's own pages. Nothing was changed. Go back to the portal, reload the page and try again.
error-internal-title = Something went wrong
error-internal-body = Please try again. If it keeps happening, call your legal team.
error-reference = Reference: { $id }

## Dashboard
dashboard-title = My cases
dashboard-greeting = Hello, { $name }
dashboard-intro = Here is where each of your cases stands.
dashboard-empty = You have no open cases with us.
dashboard-phase = Current step: { $phase }
dashboard-needs = { $count ->
    [one] We need 1 document from you
   *[other] We need { $count } documents from you
}
dashboard-needs-none = Nothing needed from you right now
dashboard-open = View case: { $title }

## Matter page
matter-progress = Progress
phase-step = Step { $position } of { $total }
phase-done = Done
phase-current = Current step
phase-upcoming = Coming up
matter-current-phase = Where your case is now
matter-what-it-means = What this means
matter-what-next = What happens next
matter-request-requested = Requested { $date }
matter-upload = Upload
matter-upload-for = Upload: { $title }
matter-recent = Recent updates
matter-no-updates = No updates yet.
matter-contact = Your contact
matter-contact-role = Case manager
matter-contact-phone = Phone
matter-contact-email = Email
matter-updated = Last updated { $date }
milestone-phase_change = Your case moved to a new step: { $phase }
milestone-appointment = Appointment: { $body }
milestone-appointment-on = on { $date }
milestone-client_note = Message from your legal team
milestone-document_received = We received a document: { $body }
milestone-request_opened = We asked for a document: { $body }
milestone-request_fulfilled = Document received: { $body }

## Dev mailbox
mailbox-title = Dev mailbox
mailbox-intro = Emails the portal would have sent. This page exists only while no SMTP server is configured.
mailbox-empty = No emails yet.
mailbox-to = To
mailbox-subject = Subject
mailbox-date = Date
mailbox-open = Open

## Email preferences, unsubscribe, rating
nav-preferences = Notifications
preferences-title = Notifications
preferences-weekly-label = Send me a weekly update about my case by email
preferences-weekly-hint = Once a week: where your case stands and what we still need. No medical details.
preferences-save = Save
preferences-saved = Your preferences are saved.
unsubscribe-title = Stop weekly updates?
unsubscribe-body = You will stop receiving the weekly email about your case. You can still sign in to see it at any time.
unsubscribe-submit = Stop weekly updates
unsubscribed-title = Weekly updates are off
unsubscribed-body = You will no longer receive weekly updates by email. You can turn them back on in your email preferences.
link-invalid-title = This link does not work
link-invalid-body = It may be incomplete or too old. Sign in to change your preferences instead.
rate-title = How are we doing?
rate-body = Choose a number from 1 (poor) to 5 (great).
rate-score = { $score } out of 5
rate-chosen-pending = You chose { $score } out of 5. It is not sent yet: tap the button below to send it.
rate-send-chosen = Send { $score } out of 5
rate-change = Or choose another number (tapping one sends it):
rated-title = Thank you
rated-body = Your answer helps us take better care of you.

## Documents and uploads
documents-title = Documents
documents-none = No documents yet.
documents-yours = You sent it
documents-firm = From your legal team
documents-download = Download { $name }
upload-title = Send documents
upload-intro = Send medical bills, records, photos, police reports or letters from your insurance. You can choose several files at once.
upload-for-request = For: { $title }
upload-category-label = What are these documents?
upload-files-label = Files (PDF or photos, up to { $max } each)
upload-files-hint = On a phone you can take a photo now or pick files you already have.
upload-drop = Or drag files here
upload-submit = Send
upload-progress = Sending… { $percent }%
upload-link = Send documents
upload-closed-title = This case is closed
upload-closed-body = Your case is closed, so documents can no longer be sent here. If you need to send something, please call your legal team.
receipt-title = What we received
receipt-intro = Thank you. These documents arrived safely:
receipt-none = No document was saved.
receipt-refused = These files were not accepted:
receipt-failed = Upload failed for { $name }: nothing of it was saved. Please try again.
receipt-incomplete = The upload of { $name } was interrupted: nothing of it was saved. Please try again.
receipt-too-many-parts = One upload can hold at most 100 files; the files after that were not read. Please send them in another upload.
receipt-too-slow = The upload took too long and was stopped: only the files listed below were saved. Please send the rest again, a few files at a time.
receipt-too-large-stop = Files after it in the same upload were not read; please send them again.
receipt-back = Back to my case
receipt-more = Send more documents
upload-refused-type = { $name }: this is not a PDF or a photo (JPEG, PNG, HEIC, TIFF or WebP). Please send a PDF or a photo.
upload-refused-empty = { $name }: the file is empty.
upload-refused-size = { $name }: the file is larger than { $max }. Please send a smaller file or split it.

doc-category-medical_bill = Medical bill
doc-category-medical_record = Medical record
doc-category-photo = Photo
doc-category-police_report = Police report
doc-category-insurance_letter = Insurance letter
doc-category-wage_proof = Proof of lost wages
doc-category-other = Other
upload-none-chosen = Choose at least one file to send.

## Staff side
milestone-internal_note = Internal note
error-forbidden-title = Not available for your account
error-forbidden-body = This page is for someone with a different role. If you think you should see it, ask your firm's administrator.
staff-sign-in-title = Staff sign-in
staff-sign-in-intro = Sign in with your password and the 6-digit code from your authenticator app.
staff-password-label = Password
staff-code-label = Code from your authenticator app
staff-code-hint = 6 digits; a new code appears every 30 seconds.
staff-sign-in-submit = Sign in
staff-sign-in-client-link = Are you a client? Sign in here.
staff-sign-in-wrong = The email, password or code is not right. Please try again.
staff-sign-in-wait = { $seconds ->
    [one] Too many failed attempts with this address. Please wait 1 second and try again.
   *[other] Too many failed attempts with this address. Please wait { $seconds } seconds and try again.
}
staff-nav-matters = Matters
staff-nav-new = New matter
staff-nav-settings = Firm settings
staff-invalid-field = Please check “{ $field }”:
staff-go-back = Go back
staff-matters-title = Matters
staff-filter-title = Filter
staff-filter-search = Title or external id
staff-filter-phase = Phase
staff-filter-manager = Case manager
staff-filter-any = Any
staff-filter-unassigned = No case manager
staff-filter-stale = No client update in 14 days
staff-filter-unreviewed = Uploads to review
staff-filter-closed = Include closed matters
staff-filter-apply = Show matters
staff-matters-count = { $count ->
    [one] 1 matter
   *[other] { $count } matters
}
staff-matters-none = No matter matches these filters.
staff-matter-phase = Phase: { $phase }
staff-matter-manager = Case manager: { $name }
staff-last-update = Last client update { $date }
staff-no-update-yet = No weekly update sent yet
staff-unreviewed-count = { $count ->
    [one] 1 upload to review
   *[other] { $count } uploads to review
}
staff-open-requests = { $count ->
    [one] 1 open document request
   *[other] { $count } open document requests
}
staff-matter-closed = Closed
staff-back-to-matters = Back to matters
staff-new-matter-title = New client and matter
staff-client-legend = Client
staff-client-name = Full name
staff-client-phone = Phone
staff-client-language = Language for emails and pages
staff-matter-legend = Matter
staff-matter-title-label = Short description (the client sees it)
staff-external-id = Id in your case-management system
staff-create-matter = Create the matter
staff-opened = Opened { $date }
staff-phase-change = Move to another phase
staff-new-phase = New phase
staff-phase-note = Note to the client (optional)
staff-phase-submit = Change the phase
staff-post-update = Post an update
staff-update-kind = Kind
staff-kind-client_note = Note to the client
staff-kind-internal_note = Internal note (the client does not see it)
staff-kind-appointment = Appointment
staff-update-body = Text
staff-update-body-hint = The client reads notes and appointments. No medical details: emails are not a safe place for them.
staff-update-when = Date and time (appointments)
staff-update-submit = Post
staff-request-title = Ask for a document
staff-request-what = What do you need?
staff-request-details = Details for the client
staff-request-submit = Send the request
staff-request-cancel = Cancel request
staff-request-cancel-named = Cancel request: { $title }
staff-request-open = Open
staff-request-fulfilled = Received
staff-request-cancelled = Cancelled
staff-documents-title = Documents
staff-documents-none = No documents yet.
staff-reviewed-by = Reviewed by { $name } on { $date }
staff-mark-reviewed = Mark reviewed
staff-mark-reviewed-named = Mark reviewed: { $name }
staff-share-title = Share a document with the client
staff-share-hint = PDF or photos (JPEG, PNG, HEIC, TIFF or WebP), up to { $max } each. The client sees them under Documents as from their legal team.
staff-share-files = Files
staff-share-submit = Share with the client
staff-share-result-title = Sharing documents
staff-share-stored = These documents were shared with the client:
staff-share-back = Back to the matter
staff-shared-with-client = Shared with the client
staff-timeline = Timeline
staff-timeline-phase_change = Moved to: { $phase }
staff-timeline-appointment = Appointment: { $body }
staff-timeline-client_note = Note to client
staff-timeline-internal_note = Internal note
staff-timeline-document_received = Document received from the client: { $body }
staff-timeline-request_opened = Document requested: { $body }
staff-timeline-request_fulfilled = Request fulfilled: { $body }
staff-internal = Internal
staff-settings-title = Firm settings
staff-settings-admin-only = Only an administrator can change these settings.
staff-settings-name = Firm name (clients see it)
staff-settings-sender = Sender of emails
staff-settings-sender-hint = For example: Smith Injury Law <updates@smithlaw.example>. Leave blank for the server's default.
staff-settings-time-zone = Time zone
staff-settings-time-zone-hint = For example: America/Chicago. The weekly update runs in this time zone.
staff-settings-schedule = Weekly update schedule
staff-settings-schedule-hint = A cron expression with seconds, for example 0 0 9 * * Mon. Leave blank for the server's default: { $default }
staff-settings-no-activity = Send a short update in weeks with no activity
staff-settings-closed-uploads = Let clients upload documents to closed matters
staff-settings-closed-uploads-hint = When this is off, a client who tries to send documents to a closed matter is told that the matter is closed and to call the firm.
staff-settings-save = Save settings
staff-settings-schedule-off = off
staff-settings-sign-ins = Staff sign-ins
staff-settings-sign-ins-hint = After many wrong passwords or codes for an address, each new try must wait a little longer. If a colleague is kept waiting, clear their failed attempts here.
staff-settings-sign-ins-failures = { $count ->
    [0] No failed sign-ins in the last 24 hours
    [one] 1 failed sign-in in the last 24 hours
   *[other] { $count } failed sign-ins in the last 24 hours
}
staff-settings-unlock = Clear failed sign-ins of { $name }
staff-sent-title = What was sent
staff-sent-none = No email sent to this matter's clients yet.
staff-mail-weekly_update = Weekly update
staff-mail-sign_in = Sign-in link
staff-mail-upload_receipt = Upload receipt
staff-mail-phase_change = Phase change
staff-mail-message_reply = New message notice
staff-mail-client_messages = New client messages
staff-mail-status-pending = waiting to be sent
staff-mail-status-sending = being sent
staff-mail-status-sent = sent
staff-mail-status-failed = failed
staff-mail-status-skipped = not sent
# --- staff workspace ---
staff-done-phase-changed = The phase is changed. The matter's clients get an email about it.
staff-done-update-posted = Your update is on the timeline.
staff-done-request-sent = Request sent. The client sees it under “what we need from you”.
staff-done-request-cancelled = Request cancelled. The client no longer sees it.
staff-done-documents-shared = Shared with the client. They see it under their documents.
staff-done-reviewed = Marked as reviewed.
staff-done-recategorised = Category changed.
staff-done-filter-saved = Filter saved. It is under “My saved filters”.
staff-done-filter-deleted = Saved filter deleted.
staff-saved-title = My saved filters
staff-saved-none = None yet. Filter and sort the table, then save it under a name.
staff-saved-delete = Delete
staff-saved-delete-named = Delete saved filter: { $name }
staff-saved-name = Save this filter and sort as
staff-saved-submit = Save filter
staff-filter-search-any = Client, title or external id
staff-filter-all = Everyone
staff-filter-mine = My matters
staff-table-caption = Matters (sort by any column heading)
staff-col-client = Client
staff-col-matter = Matter
staff-col-phase = Phase
staff-col-days = Days since update
staff-col-requests = Open requests
staff-col-review = Uploads to review
staff-col-manager = Case manager
staff-more-clients = { $count ->
    [one] +1 more
   *[other] +{ $count } more
}
staff-never = never
staff-preview = Preview
staff-preview-named = Preview: { $name }
staff-preview-of = Preview of { $name }
staff-review-pick-named = Tick to mark reviewed: { $name }
staff-review-picked = Mark ticked documents reviewed
staff-recategorise-label = Category
staff-recategorise = Change category
staff-recategorise-named = Change category: { $name }

# --- branding and firm settings ---
footer-call = Questions? Call { $firm } at
footer-signed-out = Questions about your case? Call your legal team.
staff-settings-phone-hint = Clients see it on their case page and at the foot of the sign-in pages.
staff-settings-time-zone-list-hint = The weekly update runs in this time zone.
staff-settings-zones-us = Common US time zones
staff-settings-zones-all = All time zones
zone-eastern = Eastern Time
zone-central = Central Time
zone-mountain = Mountain Time
zone-arizona = Arizona (no daylight saving)
zone-pacific = Pacific Time
zone-alaska = Alaska Time
zone-hawaii = Hawaii Time
staff-settings-schedule-custom = Custom schedule (set through the API):
staff-settings-schedule-replace = Replace it with the day and time below
staff-settings-weekday = Day
staff-settings-schedule-default = The server's default ({ $default })
staff-settings-time = Time
staff-settings-schedule-picker-hint = The weekly update goes out on this day at this time, in the firm's time zone.
weekday-mon = Monday
weekday-tue = Tuesday
weekday-wed = Wednesday
weekday-thu = Thursday
weekday-fri = Friday
weekday-sat = Saturday
weekday-sun = Sunday
staff-settings-look = How clients see the firm
staff-settings-accent = Accent colour
staff-settings-accent-hint = Used for buttons, links and emails. It must be dark enough for white text on it to be easy to read.
staff-settings-reply-to = Replies to client emails go to the case manager
staff-settings-reply-to-hint = When this is off, replies go to the sender of emails above.
staff-settings-public-host = The firm's own portal address (optional)
staff-settings-public-host-hint = A host name such as portal.smithlaw.example, when it points to this portal. Sign-in pages opened at that address show the firm's name, logo and colour.
staff-settings-logo = Logo
staff-settings-logo-current = Current logo of { $firm }
staff-settings-logo-none = No logo yet: pages and emails show the firm's name.
staff-settings-logo-file = Logo picture
staff-settings-logo-hint = PNG, JPEG or WebP, at most 512 KB. A wide logo on a white or clear background looks best.
staff-settings-logo-upload = Upload logo
staff-settings-logo-remove = Remove logo

# --- emails ---
short-link-gone-title = This link no longer works
short-link-gone-body = Links in our emails stop working after a while, and sign-in links after 15 minutes. Sign in to see your case; we will email you a new link.
short-link-sign-in = Sign in

# --- client case page and phone upload ---
matter-upload-now = Upload now
matter-calm-body = Your legal team is working on your case. We will tell you here and by email if we need anything.
matter-call = Call
matter-email = Email
matter-call-label = Call { $name }, your case manager
matter-email-label = Email { $name }, your case manager
matter-contact-bar = Contact your case manager
matter-all-steps = See all { $total } steps
milestone-documents-received = { $count ->
    [one] We received a document: { $body }
   *[other] We received { $count } documents: { $body }
}
upload-add = Add photos or files
upload-chosen-note = Files chosen. Press “Send” to send them.
upload-chosen-title = Files to send
upload-remove = Remove
upload-remove-file = Remove { $name }
upload-file-category = Type of document
receipt-success = Sent. We have your documents.
receipt-request-complete = Request complete: { $title }
receipt-next-title = What happens next
receipt-next = Your legal team will review your documents and contact you if anything else is needed. You can see them on your case page.
# --- one upload, one staff timeline line ---
staff-timeline-documents-received = { $count ->
    [one] Document received from the client: { $body }
   *[other] { $count } documents received from the client: { $body }
}

# --- client messages ---
staff-settings-message-text = Put the text of the firm's replies in the "new message" email
staff-settings-message-text-hint = Off (recommended): the email only says there is a message, and the client reads it after signing in. Email is not encrypted end to end.
messages-title = Messages
messages-conversation = Your conversation with your legal team
messages-list-label = Messages, oldest first
messages-you = You
messages-legal-team = your legal team
messages-attachments = Files sent with this message
messages-read = Read by your legal team
messages-delivered = Sent
messages-none = No messages yet. Ask your legal team anything about your case here.
messages-compose-title = Write to your legal team
messages-compose-label = Your message
messages-compose-hint = Your legal team answers during office hours. In an emergency, call 911.
messages-attach = Attach photos or files
messages-attach-hint = Optional. Photos or PDF files, up to { $max } each.
messages-send = Send message
messages-sent = Your message was sent. Your legal team will answer here, and we will email you when they do.
messages-not-attached = These files were not attached:
messages-closed = This case is closed, so it takes no new messages. Please call your legal team.
messages-rate-limited-title = Please wait a little
messages-rate-limited-body = You have sent many messages in the last hour. Please wait a while before sending another, or call your legal team.
messages-back = Back to my messages
messages-error-not-sent = Your message could not be sent just now. It is still in the box below: please try again in a minute.
message-error-empty = Write a message or attach a file.
message-error-too-long = Your message is too long. Please keep it under { $max } characters, or send it in two parts.
message-error-control = Your message contains a hidden control character (often from copying text). Please retype that part and send again.
messages-new = { $count ->
    [one] 1 new
   *[other] { $count } new
}
messages-all = See all { $count } messages
dashboard-unread = { $count ->
    [one] 1 unread message from your legal team
   *[other] { $count } unread messages from your legal team
}
# --- staff messages ---
staff-msg-nav = Messages
staff-msg-nav-waiting = { $count ->
    [one] Messages (1 conversation waiting for a reply)
   *[other] Messages ({ $count } conversations waiting for a reply)
}
staff-msg-inbox-title = Messages
staff-msg-show-label = Show conversations
staff-msg-show-unanswered = Waiting for a reply
staff-msg-show-mine = My matters
staff-msg-show-all = All
staff-msg-empty-unanswered = Nothing is waiting for a reply. Every client message has been answered.
staff-msg-empty-mine = No client has written on the matters you manage yet.
staff-msg-empty-all = No client has written yet.
staff-msg-unanswered-count = { $count ->
    [one] 1 unanswered message
   *[other] { $count } unanswered messages
}
staff-msg-waiting-minutes = { $count ->
    [0] waiting less than a minute
    [one] waiting 1 minute
   *[other] waiting { $count } minutes
}
staff-msg-waiting-hours = { $count ->
    [one] waiting 1 hour
   *[other] waiting { $count } hours
}
staff-msg-waiting-days = { $count ->
    [one] waiting 1 day
   *[other] waiting { $count } days
}
staff-msg-waiting-since = (since { $at })
staff-msg-nothing-waiting = Nothing waiting. Last message { $at }.
staff-msg-reply-label = Reply to “{ $title }”
staff-msg-send-reply = Send reply
staff-msg-send-reply-named = Send reply: { $title }
staff-msg-handled = Handled, no reply needed
staff-msg-handled-named = Handled, no reply needed: { $title }
staff-msg-handled-hint = Nothing is sent to the client; the messages leave the “waiting” list.
staff-msg-section-title = Messages with the client
staff-msg-thread-none = No messages yet. What you write here reaches the matter's clients on their case page and by email.
staff-msg-kind-client = Client
staff-msg-kind-reply = Reply to the client
staff-msg-kind-note = Internal note
staff-msg-kind-handled = Handled
staff-msg-note-flag = Internal note — clients never see this
staff-msg-handled-by = Marked handled by { $name }
staff-msg-handled-by-former = Marked handled by a former staff member
staff-msg-former-author = Former user
staff-msg-files = Files sent with the message
staff-msg-read-by-client = Read by the client { $at }
staff-msg-waiting-reply = Waiting for a reply
staff-msg-write-label = Your message
staff-msg-write-hint = The matter's clients see it on their case page and get an email 5 minutes later unless they read it first. Tick “Internal note” to keep it among staff.
staff-msg-internal-label = Internal note (staff only)
staff-msg-send = Send
staff-msg-done-reply-sent = Reply sent. The clients get an email in 5 minutes unless they read it first.
staff-msg-done-note-saved = Internal note saved. Clients never see it.
staff-msg-done-marked-handled = Marked as handled. Nothing was sent to the client.

# Virus scanning (clamd)
upload-refused-infected = { $name }: our virus check found something harmful in this file, so it was not saved. If you did not expect this, please tell your legal team.
receipt-scan-failed = { $name } could not be checked for viruses just now, so it was not saved, and the files after it were not sent. Please try again later.

# --- locales ---
# The language named in itself: the language switcher and staff forms show it.
language-name = English
# --- requests ---
day-format = { $weekday }, { $month } { $day }
matter-request-due = Due { $date }
matter-request-overdue = Overdue
staff-filter-overdue = Overdue documents
staff-overdue-count = { $count } overdue
staff-request-template = Start from a ready-made request
staff-request-template-none = None: I will write it
staff-request-template-hint = With a ready-made request, leave “What do you need?” empty to use its wording in the client’s language.
staff-request-due = Due date (optional)
staff-request-fulfil = When is it complete?
staff-request-fulfil-first_upload = When the client uploads a file
staff-request-fulfil-staff = Only when I mark it complete (several files)
staff-request-due-on = Due { $date }
staff-request-overdue = Overdue
staff-request-waits-for-staff = Stays open until marked complete
staff-request-complete = Mark complete
staff-request-complete-named = Mark complete: { $title }
staff-request-change-due = Change due date
staff-request-change-due-named = Due date for: { $title }
staff-request-save-due = Save date
staff-done-request-completed = Request marked complete. The client sees it as received.
staff-done-request-due-changed = Due date saved.
staff-request-category-auto = As the ready-made request says (else Other)
staff-mail-request_reminder = Document reminder
# --- onetap ---
one-tap-title = Open your case
one-tap-body = Press the button to sign in on this device and see your case. No code needed.
one-tap-submit = Open my case
one-tap-once = This button works once, for 7 days after the email was sent. If someone else has this email, do not press it.
one-tap-spent-title = This link has already been used or has expired
one-tap-spent-body = For your safety, the button in our emails works only once and only for 7 days. We can email you a 6-digit code to sign in instead.
one-tap-spent-submit = Email me a sign-in code
staff-settings-one-tap = Let the "Open my case" button in client emails sign the client in with one tap
staff-settings-one-tap-hint = On: the button works once, for 7 days, and stops working when the client signs out everywhere. Anyone the email is forwarded to could use it. Off: the button opens the sign-in page with the client's address filled in, and the client asks for a code.
# --- treatment ---
care-title = Appointments and treatment
care-appointments = Your upcoming appointments
care-intro = Keep going to your medical appointments, and tell us each time you see a provider: regular treatment matters for your health and for your case.
care-latest-visits = Your latest visits
care-log-visit = I saw a provider
care-log-upcoming = I have an appointment
care-cancelled = Cancelled
treatment-title = Treatment log
treatment-form-title = Tell us about a visit
treatment-status-legend = What do you want to tell us?
treatment-status-visited = I saw a provider
treatment-status-upcoming = I have an appointment coming up
treatment-date = Date
treatment-date-hint = A visit: today or before. An appointment coming up: today or later.
treatment-provider = Provider
treatment-provider-new = A new provider (fill in below)
treatment-new-provider = New provider
treatment-new-provider-hint = Only if the provider is not in the list above.
treatment-provider-name = Name of the doctor, clinic or hospital
treatment-provider-kind = Kind of provider
treatment-provider-phone = Their phone number (optional)
treatment-note = Note (optional)
treatment-note-hint = No need for medical details: we get those from your records.
treatment-submit = Save
treatment-log-title = Treatment log
treatment-log-none = No visits logged yet.
treatment-visited-on = Visited on { $date }
treatment-upcoming-on = Appointment on { $date }
treatment-logged-visit = Thank you. Your visit is saved.
treatment-logged-upcoming = Thank you. Your appointment is saved.
treatment-error-date = Enter the date of the visit, for example 2027-01-05.
treatment-error-provider = Choose a provider from the list, or write the name of a new one.
treatment-error-future = A visit cannot be in the future. If it is still to come, choose “I have an appointment coming up”.
treatment-error-past = An upcoming appointment cannot be in the past. If you already went, choose “I saw a provider”.
treatment-error-note = The note is too long or holds characters we cannot keep.
treatment-error-status = Choose whether you saw a provider or have an appointment coming up.
provider-kind-doctor = Doctor
provider-kind-physical_therapy = Physical therapy
provider-kind-chiropractor = Chiropractor
provider-kind-hospital = Hospital or emergency room
provider-kind-imaging = Imaging (X-ray, MRI, CT)
provider-kind-other = Other
staff-treatment-title = Treatment
staff-treatment-gap-badge = { $days } days without treatment
staff-treatment-gap-note = No visit logged for { $days } days during treatment. Insurers discount gaps in treatment: check in with the client.
staff-appointments-title = Appointments
staff-appointments-none = No appointments scheduled.
staff-appointment-cancel = Cancel appointment
staff-appointment-cancel-named = Cancel appointment: { $when }
staff-appointment-schedule = Schedule an appointment
staff-appointment-kind = Kind
staff-appointment-starts = Starts (the firm's time)
staff-appointment-minutes = Length in minutes
staff-appointment-place = Where
staff-appointment-bring = What to bring
staff-appointment-hint = The matter's clients get an email with a calendar invitation, and a reminder the day before.
staff-appointment-submit = Schedule
staff-visit-legend = What happened
staff-visit-title = Log a visit
staff-visit-visited = The client saw a provider
staff-visit-upcoming = The client has an appointment coming up
staff-visit-submit = Log visit
staff-done-visit-logged = The visit is in the treatment log.
staff-done-appointment-scheduled = Appointment scheduled. The clients get an email with a calendar invitation.
staff-done-appointment-cancelled = Appointment cancelled. The clients get an email that removes it from their calendar.
staff-filter-treatment-gap = Gap in treatment
staff-settings-treatment-gap = Days without treatment before a matter is flagged
staff-settings-treatment-gap-hint = A matter in a treatment phase with no visit logged for this many days is marked in the matters table.
staff-mail-appointment = Appointment
staff-mail-appointment_reminder = Appointment reminder
# --- push ---
install-short-name = My case
install-description = Where your case stands, what happens next and what we need from you.
install-hint-text = Add this site to your home screen to open your case in one tap.
install-hint-ios = In Safari, tap Share, then “Add to Home Screen”.
install-hint-add = Add to home screen
install-hint-dismiss = Not now
offline-title = You are offline
offline-body = This page needs an internet connection. Nothing about your case is kept on this device. Check your connection and try again.
offline-retry = Try again
push-heading = Notifications on this device
push-hint = A notification when your case moves to a new step, when we need a document from you, or when we answer your message. It never shows details of your case.
push-status-on = Notifications are on for this device.
push-status-off = Notifications are off for this device.
push-status-denied = This browser blocks notifications from this site. You can allow them in the browser’s settings.
push-status-failed = Notifications could not be turned on. Please try again later.
push-turn-on = Turn on notifications
push-turn-off = Turn off notifications
push-unsupported = Notifications need a browser that supports them, with JavaScript on. We still send you emails.
push-devices = { $count ->
    [one] Notifications are on for 1 device.
   *[other] Notifications are on for { $count } devices.
}
push-off-everywhere = Turn off notifications on all devices
push-prompt-text = Get a notification on this phone when your case moves forward or when we need something from you.
push-prompt-later = Not now
push-phase-change-title = Your case moved to a new step
push-phase-change-body = Now: { $step }
push-reply-title = New message from your legal team
push-reply-body = Open your case to read it.
push-request-title = Your legal team needs a document
push-request-body = Open your case to see what to send.

## Text messages (SMS): short notices, at most two segments with the link; no case details beyond the step's name.
sms-phase-change = Your case moved to a new step: { $step }. Details:
sms-reply = You have a new message about your case. Read it:
sms-request = Your legal team needs a document from you. See what to send:
sms-reminder = Reminder: documents for your case are due soon. See what to send:
sms-reminder-overdue = Reminder: documents for your case are overdue. See what to send:
sms-appointment-reminder = Reminder: your appointment is { $when }. Details:
sms-keyword-stop = { $firm }: you will get no more texts from us. Reply START to get them again.
sms-keyword-start = { $firm }: you will get texts about your case again. Reply STOP to stop, HELP for help.
sms-keyword-help = { $firm }: texts about your case. Reply STOP to stop. Help: { $contact }
sms-pointer = { $firm }: we could not tell which case this is about. Please write to us on the portal: { $url }
staff-sms-status = text: { $status }
preferences-sms-heading = Text messages
preferences-sms-number = Mobile number
preferences-sms-number-hint = With the country code, for example +1 201 555 0123.
preferences-sms-opt-in = Yes, send me text messages about my case
preferences-sms-opt-in-hint = Short notices when your case moves on, when we need a document or reply to you, and reminders. Message and data rates may apply. Reply STOP to any text to stop, HELP for help.
preferences-sms-invalid = This is not a mobile number we can text. Write it with the country code, for example +1 201 555 0123.
preferences-sms-unavailable = Your legal team does not send text messages.
staff-client-sms-number = Mobile number for texts (optional)
staff-client-sms-opt-in = The client asked to get text messages
staff-client-sms-opt-in-hint = Tick only on the client's own word: it is recorded as their consent, given to staff, now. They can reply STOP at any time.
staff-settings-sms-hours = Text message hours
staff-settings-sms-hours-hint = Texts to clients go out only between these hours, in the firm's time zone; the others wait until the next morning.
staff-settings-sms-off = Text messages are not set up on this portal; these hours apply once they are.
staff-settings-sms-from = From (hour, 0–23)
staff-settings-sms-until = Until (hour, 1–24)
# --- insights (/staff/insights) ---
staff-nav-insights = Insights
insights-title = Insights
insights-scope-firm = The whole firm
insights-scope-person = Matters of { $name }
insights-range = { $from } to { $to }
insights-as-of = figures of { $at }
insights-form-heading = Period and scope
insights-from = From
insights-to = To (included)
insights-scope-label = Whose matters
insights-show = Show
insights-adoption = Adoption
insights-activation = Activation: open matters with an invited client
insights-engagement = Engagement: invited clients who signed in within 30 days
insights-share = { $count } of { $of }
insights-grade = Grade { $grade }
insights-grade-a = A: 75% and more
insights-grade-b = B: 60 to 74%
insights-grade-c = C: 25 to 59%
insights-grade-d = D: below 25%
insights-grades-explained = Grades as Case Status grades firms: A at 75% and more, B from 60 to 74%, C from 25 to 59%, D below 25%.
insights-weekly = Weekly updates
insights-coverage = Open matters whose clients got an update in the last 7 days
insights-failed = Weekly updates that failed in the period
insights-failures-caption = The latest failed weekly updates
insights-col-client = Client
insights-col-when = When
insights-col-error = Mail server's answer
insights-satisfaction = Satisfaction
insights-ratings = Ratings in the period
insights-average = Average
insights-out-of-five = { $value } out of 5
insights-none = none yet
insights-axis-ratings = Ratings
insights-axis-average = Average (1–5)
insights-axis-matters = Matters
insights-col-score = Score
insights-col-week = Week
insights-col-manager = Case manager
insights-by-manager = Ratings by case manager
insights-chart-ratings-title = Ratings by score, 1 to 5
insights-chart-ratings-desc = Bar chart of how many ratings gave each score from 1 (lowest) to 5 (highest); the table beside it gives each count.
insights-chart-trend-title = Average rating by week
insights-chart-trend-desc = Line chart of the average rating in each week of the period that had ratings, on a scale of 1 to 5; the table beside it gives each week's count and average.
insights-requests = Document requests
insights-requests-open = Open now
insights-requests-overdue = Overdue (open, due date passed)
insights-requests-fulfilled = Fulfilled in the period
insights-requests-median = Median time to fulfil
insights-days = { $value } days
insights-messages = Client messages
insights-messages-from-clients = Messages from clients in the period
insights-messages-median = Median time to the firm's answer
insights-hours = { $value } hours
insights-messages-unanswered = Waiting more than one business day now
insights-phases = Matters by phase
insights-phases-caption = Open matters and days spent in each phase
insights-chart-phases-title = Open matters by phase
insights-chart-phases-desc = Bar chart of how many open matters are in each phase now, in the order of the phases; the table beside it also gives the median days spent in each phase.
insights-col-phase = Phase
insights-col-open = Open matters
insights-col-stays = Phases ended in the period
insights-col-median-days = Median days in phase
insights-quarters = Matters opened and closed
insights-col-quarter = Quarter
insights-opened = Opened
insights-closed = Closed
insights-chart-quarters-title = Matters opened and closed per quarter
insights-chart-quarters-desc = Bar chart of the matters opened (blue) and closed (orange) in each calendar quarter of the period; the table beside it gives each number.
insights-csv = Download the tables (CSV)
insights-csv-adoption = Adoption
insights-csv-weekly-failures = Failed weekly updates
insights-csv-satisfaction-weeks = Ratings by week
insights-csv-satisfaction-managers = Ratings by case manager
insights-csv-phases = Phases
insights-csv-quarters = Quarters
