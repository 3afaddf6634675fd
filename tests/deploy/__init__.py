"""Static checks of deploy/ (image, compose, Kubernetes, dashboards, alerts) and the search-attribute script."""
