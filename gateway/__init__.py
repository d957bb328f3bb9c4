"""credgate gateway: OAuth-protected GraphQL federation over agency connectors."""
