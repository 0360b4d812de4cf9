"""Streamlit-only glue shared by the pages: widgets that return plain values, cached loaders."""
