"""Pages of the Streamlit app (``app.py``); only the app imports streamlit."""
