"""Server-rendered pages of opportunities, visits and accounts (one module per area)."""
