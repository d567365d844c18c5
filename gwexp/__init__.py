"""gwexp: declarative experiments on how a gateway's event feed scales."""

__version__ = "0.1.0"
