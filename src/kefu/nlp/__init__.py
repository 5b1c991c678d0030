"""kefu.nlp: the Chinese analysis engine (spec/triage.md)."""
