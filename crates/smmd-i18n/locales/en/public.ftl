# Public pages and signing in: the home page, the services list, log-in, sign-up, password
# reset, e-mail confirmation, the two-factor code.

email = E-mail
password = Password
forgot-password-link = Forgot your password?
no-account-yet = No account yet?
session-ended = Your session has ended. Log in to go on where you were.
session-ended-form-kept = Your session ended before the form was sent. Log in and send it again: what you typed is kept (passwords excepted).
session-ended-form-lost = Your session ended before the form was sent. Log in and fill it in again.
foreign-form-title = Form from another site
foreign-form-text = This form was not sent from this panel.
log-in-here = Log in here
wrong-login = Wrong e-mail or password
resend-title = Send your form again
resend-text = Your session had ended when you sent this form. You are logged in again: send it now?
send = Send
do-not-send = Do not send
reset-title = Reset your password
reset-intro = Enter the e-mail of your account: we send it a link to choose a new password.
send-link = Send the link
back-to-login = Back to log-in
new-password-title = Choose a new password
new-password = New password
new-password-hint = At least 8 characters. Every session of the account ends when it changes.
set-password = Set the password
password-changed-title = Password changed
password-changed-text = Your password is changed and every session of the account has ended.
email-confirmed-title = E-mail confirmed
email-confirmed-text = Thank you: your e-mail is confirmed and you can log in.
link-not-valid = Link not valid
resend-confirmation = Send the confirmation link again
confirm-email-title = Confirm your e-mail
code-title = Two-factor code
code-intro = Enter the 6-digit code your authenticator app shows for this panel, or one of your backup codes.
code = Code
cancel = Cancel
backup-codes-title = Your backup codes
backup-codes-text = Each works once in place of a code, if you lose your phone. Keep them somewhere safe: they are shown only now.
two-factor-required = This panel requires two-factor authentication for admins: turn it on below to open the admin pages.
security = Security
two-factor-title = Two-factor authentication
on = On
off = Off
make-backup-codes = Make new backup codes
turn-off = Turn off
turn-two-factor-off = Turn two-factor off
enrol-step-scan = Scan this QR code with the app, or type the key in.
enrol-step-code = Enter the code the app shows, and your password.
qr-alt = QR code of the two-factor key
code-from-app = Code from the app
turn-two-factor-on = Turn two-factor on
panel-policy = Panel policy
email-off-hint = E-mail is off on this panel (no SMTP server): confirmation links and password resets cannot be sent.
save = Save
two-factor-now-on = Two-factor is on. Keep your backup codes.
two-factor-now-off = Two-factor is off.
backup-codes-renewed = New backup codes: the old ones no longer work.
policy-saved = Policy saved.
check-inbox-text = We sent a link to { $email }. Open it to confirm your e-mail, then log in. It works for two days.
two-factor-on-text = Log-ins and money or security actions ask for a code from your authenticator app.
backup-codes-left = { $n ->
    [one] { $n } backup code left.
   *[other] { $n } backup codes left.
}
reset-link-sent = If an account has this e-mail, a link to reset its password is on its way. It works once, for one hour.
policy-admin-two-factor = Require two-factor of every admin
policy-confirm-email = New sign-ups confirm their e-mail before they can log in
two-factor-off-text = Protect your account with a code from an authenticator app (Google Authenticator, Authy, 1Password, …).
totp-key = Key:
faq = FAQ
home-tagline = Followers, likes and views for every platform, delivered automatically.
create-account = Create an account
see-services = See services and prices
what-we-sell = What we sell
catalogue-empty = The catalogue is being prepared.
how-it-works = How it works
your-prices = Your prices
search-services = Search services or an id
search = Search
platform = Platform
all-platforms = All platforms
type = Type
all-types = All types
filter = Filter
no-service-matches = No service matches.
show-all = Show all
id = ID
service = Service
rate-per-1000 = Rate per 1000
min-max = Min – max
refill = Refill
average-time = Average time
description = Description
no-refill = No refill
order = Order
home-services-count = { $n ->
    [one] { $n } service
   *[other] { $n } services
}
home-orders-delivered = { $n } orders delivered
home-api-for-resellers = API v2 for resellers
home-platform-figures = { $n ->
    [one] { $n } service
   *[other] { $n } services
} · from { $min } { $currency } per 1000
how-funds = Add funds
how-funds-text = to your wallet.
how-order = Order
how-order-text = a service for your link: we start within minutes.
how-follow = Follow it live
how-follow-text = — status, start count and remains update by themselves; what is not delivered is refunded.
prices-per-1000-in = Prices per 1000 in { $currency }
n-days = { $n ->
    [one] { $n } day
   *[other] { $n } days
}
n-ratings = { $n ->
    [one] { $n } rating
   *[other] { $n } ratings
}
n-orders = { $n } orders

# The "Updates" feed (issue 20).
nav-updates = Updates
upd-title = Price and availability updates
upd-newest = newest
upd-hint = Every change of a service's price or availability, as it happened.
upd-none = No price or availability has changed yet.
upd-change = Change
upd-price-up = Price up
upd-price-down = Price down
upd-available = Available again
upd-unavailable = No longer available
