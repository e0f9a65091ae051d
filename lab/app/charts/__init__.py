"""Plotly figures as pure functions, one module per lab, on one shared style (`style`)."""
