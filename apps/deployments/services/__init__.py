"""Every write of the deployments app (see the modules)."""
