"""HTTP views of the deployments app."""
