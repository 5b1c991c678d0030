"""KPI figures from the database (facts), against targets (kpis, targets), and exports."""
