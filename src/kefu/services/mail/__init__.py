"""E-mail as a channel: mailboxes (mailboxes.py), the IMAP fetcher (fetch.py), turning a stored
mail into a message on a ticket (intake.py) and replies out through the outbox (outbound.py)."""
