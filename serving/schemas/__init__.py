"""Request and response models of the API resources, one module per resource."""
