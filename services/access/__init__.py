"""Who may do what, and the record of what they did: staff, sign-in (tokens, sessions,
single sign-on), the care-team and privacy policy, and the access log every read of patient
data is appended to before it is answered."""
