"""gantui: train GANs and watch them learn in the terminal."""
__version__ = "0.1.0"
