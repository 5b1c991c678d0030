"""Backups: one archive of the database and the attachments (``kefu backup``), and its restore
into an empty database and data folder (``kefu restore``).

manifest (what an archive holds and the errors of this area), archive (writing and reading the
.tar.gz, checking every file against the manifest), sqlite (the online backup API), postgres
(``pg_dump`` / ``pg_restore``), service (the two use cases)."""
