"""Staff accounts: how people sign in and how long they stay signed in.

- `lockout`: brute-force protection on the password step (django-axes), and the leads' unlock.
- `mfa`: one-time codes from an authenticator app, with recovery codes (django-otp).
- `codes`: what a typed code is; recovery codes are made here and stored as digests only.
- `sessions`: sessions end after inactivity and a fixed time after signing in.
- `redirects`: sending a request to the code step or the sign-in page, htmx included.
- `audit`: the security log lines (`portal.security`) for sign-ins and code checks.
"""
