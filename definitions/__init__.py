"""The domain as data: pydantic models, protocols, templates and territory.

Nothing here imports the rest of the project, so workflows, activities and the
gateway can all share one vocabulary.
"""
