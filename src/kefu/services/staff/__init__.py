"""Staff: users and groups, sign-in and tokens, presence, each one's notices."""
