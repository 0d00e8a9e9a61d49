"""The demo federation of instance IR-DEMO: central, ten organisations with their gateways, and
the seven national base registries in their owners' registry services, on one machine with
SQLite files."""
