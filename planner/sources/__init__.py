"""Data in: street networks, station and demand tables, areas; validated where they enter."""
