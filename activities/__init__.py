"""Everything that touches the world: database, SMS, email, reports."""
