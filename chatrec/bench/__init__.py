"""Benchmarks that print numbers: every speed and memory target is checked here, through
``chatrec bench …``, never by timed unit tests (the machines are shared and noisy)."""
