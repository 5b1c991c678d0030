"""The norms checker at work: replies checked when sent, and agents' norm scores over time."""
