"""E-mail: parsing (parse.py), composing (compose.py), sending (smtp.py) and reading (imap.py)."""
