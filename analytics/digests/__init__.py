"""The weekly digest (SPEC §8): content.py builds what a user's digest shows; sending.py renders, schedules and
sends it exactly once per user and week."""
