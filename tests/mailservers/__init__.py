"""Real mail servers for the tests, started privately on loopback by the tests themselves
(never the system's services): Debian's Postfix for SMTP (postfix.py)."""
