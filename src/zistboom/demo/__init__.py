"""The demo federation of instance IR-DEMO: central, six organisations with their gateways, and
an example population registry, on one machine with SQLite files."""
