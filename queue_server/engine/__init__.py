"""The only place that joins the rules, the disk and the bus: one writer per office, typed results."""
