"""The application database: tables, migrations and the queries on them.

Used by activities and the gateway; never by workflows.
"""
