"""Plotly figure builders: compute functions return numpy, these turn results into pictures."""
