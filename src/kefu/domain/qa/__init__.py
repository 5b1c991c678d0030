"""Automatic quality review (质检) of a whole conversation: the criteria of docs/qa.md, the
scorecard that weighs them, and the review itself — pure, over facts a service gathers."""
