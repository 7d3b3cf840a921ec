"""The customers' pages: filing a ticket (with self-help from the guide), following it by private link."""
