"""`python -m lab`: a common toolkit (`common`) and one module per subcommand."""
