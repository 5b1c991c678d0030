"""Use cases. ``check_*`` functions validate input and permissions, ``do_*`` make the change."""
