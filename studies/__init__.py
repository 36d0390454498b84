"""Studies built on the package (learning study, transfer benchmark): they import spatial_ssrl, nothing imports them."""
