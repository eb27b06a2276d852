"""Fan-out of office events to live screens, a channel per office, shaped like broadcaster."""
