"""Pure business rules: no web, no SQL, no clock reads."""
