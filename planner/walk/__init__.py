"""The walk engine: the network in arrays, walk distances, coverage and gap zones."""
