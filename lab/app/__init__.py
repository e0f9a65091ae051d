"""The Streamlit page: form model, share links, history, charts and one `Lab` per lab.

The only package that imports streamlit, pandas or plotly.
"""
