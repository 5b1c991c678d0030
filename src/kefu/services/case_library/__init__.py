"""The case library (解决方案库): entries written when complaints are archived (entries), the
in-memory search index over them (index), what agents read — the library, an entry, the similar
cases of an open ticket (queries) — and an entry promoted to a knowledge-base draft (promote)."""
