"""The cockpit: finance managers' and the boss's web UI over the suite's public APIs."""
