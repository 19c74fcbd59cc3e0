"""HTTP views of the accounts app, one module per API family (and the pages)."""
