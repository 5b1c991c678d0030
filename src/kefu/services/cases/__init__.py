"""Cases: tickets, the steps of their loop, links and merges, the timeline, routing."""
