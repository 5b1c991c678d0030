"""Demo data for ``kefu demo``: written for kefu, shipped in the package."""
