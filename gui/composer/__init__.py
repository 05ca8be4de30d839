"""The Composer panel: write, check, preview, send and follow messages to the agents."""
