"""The engine: activation, scheduling, runs, personalization, throttling and delivery (DESIGN.md 2, 4, 5)."""
