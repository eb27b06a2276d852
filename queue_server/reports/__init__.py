"""The read side: reports over the tickets, events, audit and surveys tables (never the live office)."""
