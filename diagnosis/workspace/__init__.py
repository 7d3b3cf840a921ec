"""The support agents' pages: the queue, the case page and its htmx forms, the home panel."""
