"""The KPI engine (绩效指标): pure formulas over plain facts, slicing, and targets.

``facts`` holds the input records a service builds from rows, ``metrics`` one function per
figure, ``slices`` the grouping by agent, group, channel, … and period, ``targets`` the default
targets (reference 001) and the on/off-target judgement. No SQL, no clock reads, no web.
The formulas are tabled in README.md, section "KPI formulas".
"""
