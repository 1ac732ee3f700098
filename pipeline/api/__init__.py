"""REST API of pipeline (SPEC §9): accounts (their owner change reassigns opportunities), opportunities and their
actions, visits, targets and stages."""
