"""How this host treats a run: public or private, its limits and budget, and the line runs wait in."""
