"""Domain events in the unit of work, and the notices they make."""
