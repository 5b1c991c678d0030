"""Retention periods (保留期限): the admins' periods (policy) and the sweep applying them (sweep)."""
