"""JSON under /api/v1: parse, ask the engine, turn its typed result into a status and a body."""
