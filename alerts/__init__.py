"""From classified items to action: stories, burst detection, severity, tickets, playbooks, email and digests."""
