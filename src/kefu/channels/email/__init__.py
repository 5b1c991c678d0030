"""The e-mail channel: the mail format (parse, compose, threads) and SMTP sending."""
