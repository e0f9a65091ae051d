"""The Classics lab: the famous GIL experiments, their published figures, and the same runs here."""
