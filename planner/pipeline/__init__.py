"""The command line's glue: files in, a written result out (analyze, demo, suggest, report)."""
