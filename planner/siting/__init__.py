"""Where new stations go: covering models, greedy and exact solvers, candidates."""
