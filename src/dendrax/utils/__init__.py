"""Internal utilities of dendrax."""
