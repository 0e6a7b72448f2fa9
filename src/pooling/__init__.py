"""Complete, no and partial pooling with PyMC."""
