"""Server-rendered pages of analytics (one module per area): pages.py (home, team, CV/PV matrix, territory,
targets) and digest.py (the weekly digest's preview and opt-out)."""
