"""The app's model: plans, their map, the workspace, uploads; no streamlit import."""
