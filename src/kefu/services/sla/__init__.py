"""SLA: the clocks and the sweep, and the admins' budgets."""
