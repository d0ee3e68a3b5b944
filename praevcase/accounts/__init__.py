"""Staff accounts: users, roles, sign-in with a second factor, server-side sessions, API tokens."""
