email-sign-in-subject = Your sign-in link for { $firm }
email-sign-in-greeting = Hello { $name },
email-sign-in-intro = Use this link to see your case on the { $firm } client portal:
email-sign-in-button = Sign in
email-sign-in-code = Or type this code on the sign-in page: { $code }
email-sign-in-expiry = The link and the code work once, within 15 minutes.
email-sign-in-ignore = If you did not ask to sign in, you can ignore this email; nobody can sign in without it.
