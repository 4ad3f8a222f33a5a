email-sign-in-subject = Your sign-in link for { $firm }
email-sign-in-greeting = Hello { $name },
email-sign-in-intro = Use this link to see your case on the { $firm } client portal:
email-sign-in-button = Sign in
email-sign-in-code = Or type this code on the sign-in page: { $code }
email-sign-in-expiry = The link and the code work once, within 15 minutes.
email-sign-in-ignore = If you did not ask to sign in, you can ignore this email; nobody can sign in without it.

## Weekly update
weekly-subject = { $firm }: your weekly case update
weekly-preheader = Where your case stands this week.
weekly-greeting = Hello { $name },
weekly-intro = Here is what happened on your case this week.
weekly-intro-quiet = No change this week. Here is where things stand.
weekly-phase = Current step ({ $position } of { $total }): { $phase }
weekly-changes = What changed
weekly-no-changes = Nothing new since our last update. Cases often move quietly for a while; we are still working on yours.
weekly-next = What happens next
weekly-needs = { $count ->
    [one] We still need 1 document from you:
   *[other] We still need { $count } documents from you:
}
weekly-needs-none = We do not need anything from you right now.
weekly-contact = Questions? Contact { $name }:
weekly-portal = See the details and upload documents in your portal:
weekly-portal-button = Open my case
weekly-rate = How are we doing? Rate us from 1 (poor) to 5 (great):
weekly-unsubscribe = Stop these weekly emails
weekly-footer = You receive this update every week while your case is open.
weekly-change-phase_change = Your case moved to a new step: { $phase }
weekly-change-appointment = An appointment was scheduled for { $date }
weekly-change-client_note = Your legal team left you a message in the portal
weekly-change-document_received = { $count ->
    [one] We received a document
   *[other] We received { $count } documents
}
weekly-change-request_opened = We asked you for a document
weekly-change-request_fulfilled = A document we asked for arrived
category-medical_bill = Medical bill
category-medical_record = Medical record
category-photo = Photo
category-police_report = Police report
category-insurance_letter = Insurance letter
category-wage_proof = Proof of lost wages
category-other = Other document

## Upload receipt
receipt-subject = { $firm }: we received your documents
receipt-greeting = Hello { $name },
receipt-body = We received these documents for your case "{ $matter }":
receipt-portal = You can see them in your portal:

## Phase change
phase-email-subject = { $firm }: your case moved to a new step ({ $phase })
phase-email-greeting = Hello { $name },
phase-email-intro = Your case "{ $matter }" has moved to a new step.
phase-email-note = A note from your legal team:

# --- emails ---
email-hi = Hi { $name },
email-hi-neutral = Hello,
email-open-case = Open my case
email-open-cases = Open my cases
email-upload-now = Upload now
email-step = Step { $position } of { $total }
email-sign-in-link = Sign in with this link:
email-sign-in-code-intro = Or type this code on the sign-in page:
receipt-email-intro = Thank you. We received { $count ->
    [one] 1 document
   *[other] { $count } documents
} for your case "{ $matter }":
receipt-email-next = Your legal team will review them. You can see them in your case at any time.
email-rate-link = Rate us (1 to 5):

# --- messages ---
message-email-subject = { $firm }: you have a new message
message-email-intro = Your legal team sent you a message about your case "{ $matter }".
message-email-intro-from = { $author } sent you a message about your case "{ $matter }".
message-email-private = For your privacy, read it in your secure portal.
message-email-open = Read the message
client-messages-subject = { $count ->
    [one] New message from a client
   *[other] { $count } new messages from a client
} ({ $matter })
client-messages-intro = { $count ->
    [one] A client wrote on "{ $matter }" and is waiting for an answer:
   *[other] A client wrote { $count } messages on "{ $matter }" and is waiting for an answer:
}
client-messages-files-only = (files only)
client-messages-open = Open the conversation
client-messages-footer = You get this email at most once per conversation every 15 minutes. Reply in the portal, or mark the messages handled if no reply is needed.
weekly-unread-replies = { $count ->
    [one] You have 1 unread message from your legal team.
   *[other] You have { $count } unread messages from your legal team.
}

# --- requests ---
reminder-subject-soon = { $count ->
    [one] A document is due soon
   *[other] { $count } documents are due soon
} ({ $firm })
reminder-subject-overdue = { $count ->
    [one] A document is overdue
   *[other] Documents are overdue
} ({ $firm })
reminder-intro-soon = { $count ->
    [one] Your legal team needs a document from you soon:
   *[other] Your legal team needs { $count } documents from you soon:
}
reminder-intro-overdue = { $count ->
    [one] Your legal team is still waiting for a document from you:
   *[other] Your legal team is still waiting for { $count } documents from you:
}
reminder-item-due = due { $date }
reminder-item-overdue = overdue since { $date }
reminder-footer = Upload them in the portal, from your phone or computer. If you cannot get one, tell your legal team; they can help.
# --- treatment ---
appointment-subject-scheduled = Appointment on { $when } — { $firm }
appointment-subject-changed = Appointment changed: now { $when } — { $firm }
appointment-subject-cancelled = Appointment cancelled: { $when } — { $firm }
appointment-subject-reminder = Reminder: your appointment on { $when } — { $firm }
appointment-email-scheduled = We have scheduled an appointment for your case "{ $matter }".
appointment-email-changed = An appointment for your case "{ $matter }" has changed. These are the new details.
appointment-email-cancelled = An appointment for your case "{ $matter }" is cancelled. You do not need to go.
appointment-email-reminder = A reminder: your appointment for your case "{ $matter }" is tomorrow.
appointment-email-when = When
appointment-email-length = How long
appointment-email-duration = { $minutes } minutes
appointment-email-place = Where
appointment-email-bring = What to bring
appointment-email-calendar = Open the attached invitation (appointment.ics) to add it to your calendar.
appointment-email-calendar-cancel = Open the attached file (appointment.ics) to remove it from your calendar.
appointment-kind-medical_exam = Medical exam
appointment-kind-deposition = Deposition
appointment-kind-mediation = Mediation
appointment-kind-call = Call with your legal team
weekly-log-visits = You have not told us about a medical visit in the last 2 weeks. Seeing your providers regularly matters for your health and your case: log each visit or upcoming appointment here:
