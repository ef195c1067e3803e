"""The CRM's pipeline: opportunities moving through stages, the board, the forecast."""
