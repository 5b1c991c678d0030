"""kefu.nlp: the Chinese analysis engine (docs/triage.md)."""
