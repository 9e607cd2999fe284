"""Table names shared by the routes."""

CALLS_TABLE = "calls"
CAMPAIGNS_TABLE = "campaigns"
