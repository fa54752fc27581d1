"""Model providers behind one streaming interface (see ``base``), found through a registry."""
