"""HTTP views of the environments app, one module per resource family."""
