"""The headless core: data, models, training and the run directory. Never imports textual or rich."""
