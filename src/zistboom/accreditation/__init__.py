"""The inter-chain service accreditation system (ZB-STD-007): schemes, applications,
accreditations with history, recognition across ecosystems, ecosystem operators, the signed
trust list and the trust-registry queries. Served by central, in central's database with a
migration history of its own; it uses central through ``zistboom.central.service`` only."""
