"""The team leads' pages: the team overview, causes and trends, exports and the Send Details upload."""
