"""chargegrid: an open-source EV charging platform."""

__version__ = "0.1.0"
