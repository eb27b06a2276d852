"""The office's rules: pure, standard library only (tests/test_layers.py holds it).

Commands come in, `Office.handle` checks them against the state and either
refuses them with a typed `DomainError` or applies them and returns the events
they caused. The board (`board.py`) is the one read model every screen shows.
"""
