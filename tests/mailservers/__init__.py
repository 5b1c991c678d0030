"""Real mail servers started by the tests on loopback: Debian's Dovecot (IMAP, LMTP) and
Postfix (SMTP). Each runs as a private instance with its own configuration under a temporary
directory; none is the system service."""
