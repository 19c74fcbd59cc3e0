"""Every write of the environments app, one function per use case (see the modules)."""
