"""The quality review (质检) of conversations: reading a case into the review's facts, running the
review after a case is resolved, and what reviewers and agents do with it."""
